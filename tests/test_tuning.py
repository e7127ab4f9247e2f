"""``--tune N``: the same number of search trials per model, chosen on validation data, never on test data."""

import dataclasses
import json

import keras
import pytest

from recipes import sentiment, stocks
from recipes.configs.text_analysis import TextAnalysisConfig
from recipes.configs.video import VideoConfig
from rnn_apps.harness import config, training, tuning

TINY = ["--quick", "--tune", "2", "--tune-epochs", "1", "--epochs", "1", "--verbose", "0"]


def rows(dataset) -> int:
    """Examples in a batched dataset of ``(inputs, targets)`` or ``(inputs, targets, weights)``."""
    return sum(int(keras.ops.shape(batch[1])[0]) for batch in dataset)


class GuardedSplits:
    """A recipe's splits that note every read of the test part made while a search runs."""

    def __init__(self, splits, searching: list, reads: list):
        self._splits, self._searching, self._reads = splits, searching, reads

    def __getattr__(self, key):
        if key == "test" and self._searching:
            self._reads.append(key)
        return getattr(self._splits, key)


@pytest.fixture
def spied(monkeypatch):
    """Sentiment with its test part guarded and every fit during a search counted in rows."""
    searching, reads, fits = [], [], []
    load_data, search, fit = sentiment.RECIPE.load_data, tuning.search, training.fit

    def guarded_load(cfg):
        data = load_data(cfg)
        return dataclasses.replace(data, splits=GuardedSplits(data.splits, searching, reads))

    def watched_search(*args, **kwargs):
        searching.append(True)
        try:
            return search(*args, **kwargs)
        finally:
            searching.pop()

    def counted_fit(model, train, validation, **kwargs):
        if searching:
            fits.append((model.name, rows(train), rows(validation)))
        return fit(model, train, validation, **kwargs)

    monkeypatch.setattr(sentiment.RECIPE, "load_data", guarded_load)
    monkeypatch.setattr(tuning, "search", watched_search)
    monkeypatch.setattr(training, "fit", counted_fit)
    return reads, fits


def nested_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from nested_layers(layer)


def check_record(record: dict, trials: int, epochs: int) -> None:
    """One model's ``tuning`` entry: the budget, the space, every trial, and the best of them chosen."""
    assert record["trials"] == trials and record["epochs_per_trial"] == epochs
    assert len(record["history"]) == trials
    assert record["history"][0]["values"] == record["given"]  # the settings as given are trial 0
    for trial in record["history"]:
        assert trial["status"] == "COMPLETED" and isinstance(trial["score"], float)
        for field, value in trial["values"].items():
            assert value in record["space"][field], field
    scores = [trial["score"] for trial in record["history"]]
    best = min(scores) if "(min)" in record["selected_on"] else max(scores)
    assert record["best_score"] == best
    assert record["chosen"] == record["history"][scores.index(best)]["values"]


def test_sentiment_tunes_every_family_with_the_same_budget_on_validation_only(spied, tmp_path):
    reads, fits = spied
    flags = [*TINY, "--model", "gru,cnn", "--units", "4", "--embedding-dim", "8", "--output-dir", str(tmp_path)]
    report = sentiment.main(flags)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    sizes = on_disk["sizes"]
    assert on_disk["config"]["tune"] == 2 and on_disk["config"]["tune_epochs"] == 1
    for name in ("gru", "cnn"):
        record = on_disk["models"][name]["tuning"]
        check_record(record, trials=2, epochs=1)
        assert record == json.loads(json.dumps(report["models"][name]["tuning"]))
        assert (tmp_path / record["folder"] / "oracle.json").is_file()
    assert "tuning" not in on_disk["models"]["majority"]
    assert "- cnn: settings chosen by --tune, 2 trials" in (tmp_path / "comparison.md").read_text()
    assert set(on_disk["models"]["cnn"]["tuning"]["space"]) >= {"cnn_filters", "cnn_widths", "learning_rate"}
    assert set(on_disk["models"]["gru"]["tuning"]["space"]) >= {"units", "layers", "bidirectional", "dropout"}
    # Two trials per model, each fitted on the training rows and scored on the validation rows only.
    assert sorted(name for name, _, _ in fits) == ["cnn", "cnn", "gru", "gru"]
    assert {(train, validation) for _, train, validation in fits} == {(sizes["train"], sizes["validation"])}
    assert reads == []
    # The final model is built with the chosen settings.
    chosen = on_disk["models"]["cnn"]["tuning"]["chosen"]
    saved = keras.models.load_model(tmp_path / "models" / "cnn.keras")
    convolutions = [layer for layer in nested_layers(saved) if layer.name.startswith("cnn_conv_w")]
    assert sorted(layer.kernel_size[0] for layer in convolutions) == sorted(chosen["cnn_widths"])
    assert {layer.filters for layer in convolutions} == {chosen["cnn_filters"]}


def test_stocks_tunes_its_recurrent_and_causal_cnn_models(tmp_path):
    report = stocks.main([*TINY, "--model", "gru,cnn", "--units", "4", "--filters", "4", "--output-dir", str(tmp_path)])
    for name in ("gru", "cnn"):
        check_record(report["models"][name]["tuning"], trials=2, epochs=1)
    assert {"kernel_size", "filters"} <= set(report["models"]["cnn"]["tuning"]["space"])
    assert "tuning" not in report["models"]["persistence"]


@pytest.mark.parametrize("flags", [["--tune", "-1"], ["--tune", "two"], ["--tune-epochs", "0"]])
def test_bad_budget_exits_2_with_one_line(flags, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main([*flags, "--output-dir", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and "expected a" in lines[0]
    assert not any(tmp_path.iterdir())


def test_search_spaces_follow_what_each_model_reads():
    text = tuning.default_space("gru", TextAnalysisConfig())
    assert text["units"] == (50, 100, 200) and text["learning_rate"] == (0.000333, 0.001, 0.003)
    assert "filters" not in text and tuning.default_space("cnn", TextAnalysisConfig())["cnn_layers"] == (2, 3, 4)
    from recipes import text_analysis, video

    assert "unidirectional" in text_analysis.RECIPE.search_space("gru", TextAnalysisConfig())
    assert "bidirectional" not in text_analysis.RECIPE.search_space("gru", TextAnalysisConfig())
    convlstm = video.RECIPE.search_space("convlstm", VideoConfig())
    assert "units" not in convlstm and convlstm["convlstm_filters"] == (8, 16, 32)
    assert convlstm["filters"] == ((8, 16, 16), (16, 32, 32), (32, 64, 64))
    assert "dropout" not in video.RECIPE.search_space("cnn3d", VideoConfig())
    cnn = sentiment.RECIPE.search_space("cnn", sentiment.SentimentConfig())
    assert "dropout" not in cnn and (3, 4, 5) in cnn["cnn_widths"]
    for space, cfg in ((convlstm, VideoConfig()), (cnn, sentiment.SentimentConfig())):
        tuning.check_space(space, cfg)


def test_cnn_spaces_search_the_cnn_the_input_gets():
    # Tuned alike: each CNN searches its own widths and depth, not settings it never reads.
    import types

    from recipes import speech, video
    from recipes.configs.speech import SpeechConfig

    fcn = video.RECIPE.search_space("cnn", VideoConfig(input="joints"))
    assert fcn["fcn_filters"] == ((64, 128, 64), (128, 256, 128), (256, 512, 256)) and (8, 5, 3) in fcn["fcn_kernels"]
    assert "fcn_filters" not in video.RECIPE.search_space("gru", VideoConfig(input="joints"))
    series = speech.RECIPE.search_space("cnn", SpeechConfig(), types.SimpleNamespace(front_end=None))
    assert series["series_filters"] == (64, 128, 256) and series["series_layers"] == (2, 3, 4)
    assert "cnn_filters" not in series and "dropout" not in series
    audio_space = speech.RECIPE.search_space("cnn", SpeechConfig(), types.SimpleNamespace(front_end=object()))
    assert audio_space["cnn_filters"] == ((16, 32, 64), (32, 64, 128), (64, 128, 256))
    assert "series_width" not in audio_space
    assert "dropout" in speech.RECIPE.search_space("cnn", SpeechConfig(task="digits"))  # the CTC head reads it
    crnn = speech.RECIPE.search_space("crnn", SpeechConfig())
    assert crnn["crnn_layers"] == (1, 2) and "bidirectional" not in crnn
    for space, cfg in ((fcn, VideoConfig(input="joints")), (series, SpeechConfig()), (crnn, SpeechConfig())):
        tuning.check_space(space, cfg)
        assert tuning.apply(cfg, {field: values[0] for field, values in space.items()}) != cfg


def test_fcn_kernels_repeat_the_last_width_for_deeper_stacks():
    from recipes import video

    assert video.fcn_kernel_sizes(VideoConfig(fcn_filters=(8, 8, 8, 8), fcn_kernels=(7, 3))) == (7, 3, 3, 3)
    assert video.fcn_kernel_sizes(VideoConfig(fcn_filters=(8,))) == (8,)


def test_a_space_must_hold_the_given_value():
    cfg = config.RunConfig(units=64)
    with pytest.raises(ValueError, match="include its value 64"):
        tuning.check_space({"units": (16, 32)}, cfg)
    with pytest.raises(ValueError, match="search-space fields"):
        tuning.check_space({"filters": (16,)}, cfg)
    assert tuning.apply(VideoConfig(), {"filters": "8,16", "bidirectional": 1}).filters == (8, 16)


def test_sentiment_tunes_inside_the_fold(spied, tmp_path):
    reads, fits = spied
    flags = [*TINY, "--model", "cnn", "--folds", "3", "--fold", "1", "--output-dir", str(tmp_path)]
    report = sentiment.main(flags)
    check_record(report["models"]["cnn"]["tuning"], trials=2, epochs=1)
    sizes = report["sizes"]
    assert [(train, validation) for _, train, validation in fits] == [(sizes["train"], sizes["validation"])] * 2
    assert reads == []


@pytest.mark.slow
def test_walk_forward_folds_each_run_their_own_search(tmp_path):
    flags = [*TINY, "--model", "gru", "--units", "4", "--walk-forward", "2", "--output-dir", str(tmp_path)]
    record = stocks.main(flags)["models"]["gru"]["tuning"]
    assert len(record["folds"]) == 2
    for fold in record["folds"]:
        check_record(fold, trials=2, epochs=1)


@pytest.mark.slow
def test_resume_reuses_finished_trials(tmp_path, monkeypatch):
    flags = [*TINY, "--model", "gru", "--units", "4", "--output-dir", str(tmp_path)]
    first = stocks.main(flags)["models"]["gru"]
    (tmp_path / "partial" / "gru.json").unlink()  # the model "was interrupted" after its search
    fits, fit = [], training.fit

    def counted_fit(*args, **kwargs):
        fits.append(kwargs["output_dir"])
        return fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit", counted_fit)
    again = stocks.main([*flags, "--resume"])["models"]["gru"]
    assert len(fits) == 1 and "tuning" not in str(fits[0])  # only the final training ran
    assert again["tuning"] == first["tuning"] and again["metrics"] == first["metrics"]


@pytest.mark.slow
def test_resume_goes_on_from_a_kept_state_without_weights(tmp_path, monkeypatch):
    from bench import harness

    first_folder, keep, second_folder = tmp_path / "first", tmp_path / "kept", tmp_path / "second"
    flags = [*TINY, "--model", "gru", "--units", "4"]
    first = stocks.main([*flags, "--output-dir", str(first_folder)])["models"]["gru"]
    (first_folder / "partial" / "gru.json").unlink()  # the model "was interrupted" after its search
    assert harness.keep_state(first_folder, keep) > 0
    assert not [path for path in keep.rglob("*") if path.suffix in (".keras", ".h5", ".npz")]
    # Another machine, or the same one after its scratch space went: only the kept state is left.
    assert harness.restore_state(keep, second_folder) > 0
    fits, fit = [], training.fit

    def counted_fit(*args, **kwargs):
        fits.append(kwargs["output_dir"])
        return fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit", counted_fit)
    again = stocks.main([*flags, "--output-dir", str(second_folder), "--resume"])["models"]["gru"]
    assert len(fits) == 1 and "tuning" not in str(fits[0])  # the search's trials were read back, not run
    assert again["tuning"] == first["tuning"] and again["metrics"] == first["metrics"]


QUICK = ["--quick", "--epochs", "1", "--verbose", "0", "--units", "4", "--embedding-dim", "8"]


def test_tuned_from_trains_with_settings_chosen_before_without_searching(monkeypatch, tmp_path):
    def no_search(*args, **kwargs):
        raise AssertionError("--tuned-from must not search")

    monkeypatch.setattr(tuning, "search", no_search)
    given = {"gru": {"units": 6, "bidirectional": True}, "cnn": {"cnn_filters": 5, "cnn_widths": [2, 4]}}
    inline = tmp_path / "inline"
    report = sentiment.main(
        [*QUICK, "--model", "gru,cnn", "--tuned-from", json.dumps(given), "--output-dir", str(inline)]
    )
    for name in ("gru", "cnn"):
        assert report["models"][name]["tuning"] == {"settings_from": "given inline", "chosen": given[name]}
    saved = keras.models.load_model(inline / "models" / "cnn.keras")
    convolutions = [layer for layer in nested_layers(saved) if layer.name.startswith("cnn_conv_w")]
    assert sorted(layer.kernel_size[0] for layer in convolutions) == [2, 4]
    assert {layer.filters for layer in convolutions} == {5}
    recurrent = [layer for layer in nested_layers(keras.models.load_model(inline / "models" / "gru.keras"))]
    assert any(isinstance(layer, keras.layers.Bidirectional) for layer in recurrent)
    assert (
        "- gru: settings from --tuned-from given inline: units=6, bidirectional=True"
        in (inline / "comparison.md").read_text()
    )

    # A --tune run's metrics.json: its chosen settings, with the budget and space of the search that chose them.
    searched = {
        "trials": 8,
        "epochs_per_trial": 5,
        "selected_on": "validation val_loss (min)",
        "space": {"units": [3, 6]},
    }
    source = tmp_path / "searched.json"
    source.write_text(json.dumps({"models": {"gru": {"tuning": {**searched, "chosen": {"units": 3}}}, "majority": {}}}))
    again = sentiment.main([*QUICK, "--model", "gru", "--tuned-from", str(source), "--output-dir", str(tmp_path / "f")])
    assert again["models"]["gru"]["tuning"] == {"settings_from": str(source), "chosen": {"units": 3}, **searched}
    stored = json.loads((tmp_path / "f" / "run.json").read_text())
    assert stored["data"]["tuned_from"]["sha256"]  # a changed file is another run for --resume


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--tune", "2", "--tuned-from", '{"gru": {"units": 4}}'], "--tune N or --tuned-from, not both"),
        (["--tuned-from", '{"gru": {"colour": 4}}'], "settings of gru that are model or training fields"),
        (["--tuned-from", '{"gru": {"seed": 4}}'], "settings of gru that are model or training fields"),
        (["--tuned-from", '{"gru": {"units": "many"}}'], "gru's units of the kind of"),
        (["--tuned-from", '{"gru": {"units": 4}'], "JSON for --tuned-from"),
        (["--tuned-from", "no/such/metrics.json"], "the path of a JSON file"),
    ],
)
def test_bad_tuned_from_exits_2_before_reading_data(flags, expected, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main([*flags, "--output-dir", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and expected in lines[0]
    assert not any(tmp_path.iterdir())
