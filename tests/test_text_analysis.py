"""The text-analysis recipe end to end on the bundled sample (quick mode), and its bad-input handling."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import quick_runs
from conftest import REPO

from recipes import text_analysis
from rnn_apps import errors, metrics
from rnn_apps.data import token_vocabulary, tokenization
from rnn_apps.harness import compare
from rnn_apps.layers import encoders
from rnn_apps.tasks import tagger_inference, taggers

MODELS = {"simple_rnn", "lstm", "gru", "cnn", "most_frequent_tag"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return quick_runs.quick_run("text_analysis", tmp_path_factory)


def run_main(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        text_analysis.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err.strip().splitlines()


# --------------------------------------------------------------------------
# The quick run


def test_metrics_json_follows_the_contract(quick_run):
    output, report = quick_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "text_analysis" and on_disk["primary_metric"] == "entity_f1"
    assert on_disk["task"] == "entities" and on_disk["tag_names"][0] == "O"
    assert set(on_disk["models"]) == MODELS
    for name, entry in on_disk["models"].items():
        assert {"entity_f1", "entity_precision", "entity_recall", "token_accuracy"} <= set(entry["metrics"]), name
        assert {"f1_PER", "f1_LOC", "f1_ORG"} <= set(entry["metrics"]), name
        assert 0.0 <= entry["metrics"]["entity_f1"] <= 1.0
        assert isinstance(entry["params"], int)
        assert isinstance(entry["train_seconds"], float) and entry["train_seconds"] >= 0
        assert isinstance(entry["predict_ms_per_sample"], float) and entry["predict_ms_per_sample"] >= 0
    kernels = {name: entry["fast_kernel"] for name, entry in on_disk["models"].items()}
    assert kernels == {"simple_rnn": False, "lstm": True, "gru": True, "cnn": None, "most_frequent_tag": None}
    assert on_disk["models"]["most_frequent_tag"]["params"] == 0
    assert on_disk["config"]["unidirectional"] is False  # bidirectional by default


def test_models_beat_the_most_frequent_tag(quick_run):
    _, report = quick_run
    f1 = {name: entry["metrics"]["entity_f1"] for name, entry in report["models"].items()}
    assert max(f1[name] for name in ("simple_rnn", "lstm", "gru")) > f1["most_frequent_tag"] + 0.1, f1
    assert f1["cnn"] > f1["most_frequent_tag"] + 0.1, f1


def test_artifacts_are_written(quick_run):
    output, report = quick_run
    for name in MODELS - {"most_frequent_tag"}:
        assert (output / "models" / f"{name}.keras").is_file()
        sidecar = json.loads((output / "models" / f"{name}.json").read_text())
        assert sidecar["tag_names"] == report["tag_names"] and sidecar["scheme"] == "iob2"
        assert (output / "logs" / f"{name}.csv").read_text().startswith("epoch,")
    for image in ("learning_curves.png", "per_type_f1.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    examples = (output / "examples.md").read_text()
    assert examples.count("## Test sentence") == 5 and "| gold |" in examples and "| lstm |" in examples
    assert compare.markdown_table(report) in (output / "comparison.md").read_text()
    assert not list(output.rglob(".*.tmp*")), "temporary files left behind"


def test_test_metrics_are_those_of_the_saved_model(quick_run):
    output, report = quick_run
    data = text_analysis.RECIPE.load_data(text_analysis.RECIPE.parse(["--quick"])).tagged
    model = keras.models.load_model(output / "models" / "cnn.keras")
    predicted = tagger_inference.predict_tags(model, [tokens for tokens, _ in data.test], data.tag_names)
    again = metrics.tagging_metrics([tags for _, tags in data.test], predicted)
    assert again["entity_f1"] == pytest.approx(report["models"]["cnn"]["metrics"]["entity_f1"], abs=1e-9)


@pytest.mark.parametrize("name", ["lstm", "cnn"])
def test_padding_never_changes_a_sentence_tags(quick_run, name):
    """A sentence gets the same scores alone and batched with a much longer one."""
    output, _ = quick_run
    model = keras.models.load_model(output / "models" / f"{name}.keras")
    short = ["Anna", "Schmidt", "visited", "Berlin", "."]
    longer = "The report by Bank of Leeds was published on Monday and read by everyone in the village .".split()
    alone = model.predict_on_batch(tokenization.model_inputs([short]))
    batched = model.predict_on_batch(tokenization.model_inputs([short, longer]))
    np.testing.assert_allclose(batched[0, : len(short)], alone[0], atol=1e-5)


def test_rnn_apps_predict_in_a_fresh_process(quick_run):
    output, _ = quick_run
    model_path = output / "models" / "gru.keras"
    texts = ["Angela Merkel visited Paris.", "Workers at Bank of Leeds went on strike on Monday."]
    result = subprocess.run(
        [sys.executable, "-m", "rnn_apps.harness.cli", "predict", "text_analysis", "--model", str(model_path), *texts],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    text, tagged, *entities = lines[0].split("\t")
    assert text == texts[0]
    assert [pair.rsplit("/", 1)[0] for pair in tagged.split()] == ["Angela", "Merkel", "visited", "Paris", "."]
    expected = text_analysis.RECIPE.predict(model_path, texts)
    assert lines == ["\t".join(row.values()) for row in expected]


def test_saved_model_loads_without_rnn_apps(quick_run):
    output, _ = quick_run
    script = (
        "import sys, keras, numpy as np;"
        "m = keras.models.load_model(sys.argv[1]);"
        "tokens = np.array([['Anna', 'visited', 'Rome', '.']], dtype=object);"
        "print(m.predict_on_batch({'tokens': tokens}).shape);"
        "print('rnn_apps' in sys.modules)"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, str(output / "models" / "lstm.keras")], capture_output=True, text=True
    )
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert fresh.stdout.split()[-1] == "False"


# --------------------------------------------------------------------------
# Bad input: exit status 2, one line, nothing written


@pytest.fixture
def conll_folder(tmp_path):
    """A small train/test pair in CoNLL layout."""
    sentence = "Anna B-PER\nSchmidt I-PER\nvisited O\nBerlin B-LOC\n. O\n\n"
    folder = tmp_path / "conll"
    folder.mkdir()
    (folder / "train.txt").write_text("-DOCSTART- -X- O\n\n" + sentence * 12)
    (folder / "test.txt").write_text(sentence * 3)
    return folder


def test_a_line_without_a_tag(tmp_path, capsys):
    path = tmp_path / "d.conll"
    path.write_text("Anna B-PER\nvisited\n\n")
    code, lines = run_main(["--data", str(path), "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2 and len(lines) == 1
    assert "a token and a tag in column -1 on line 2 of d.conll" in lines[0] and "'visited'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_unknown_tag_column(conll_folder, tmp_path, capsys):
    code, lines = run_main(
        ["--data", str(conll_folder), "--tag-column", "5", "--output-dir", str(tmp_path / "o")], capsys
    )
    assert code == 2 and len(lines) == 1 and "in column 5 on line" in lines[0]
    code, lines = run_main(["--data", str(conll_folder), "--tag-column", "ner"], capsys)
    assert code == 2 and "Expected --tag-column to be a column number" in lines[0]


def test_conllu_tag_column_name_is_checked(tmp_path, capsys):
    path = tmp_path / "t.conllu"
    path.write_text("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n")
    code, lines = run_main(["--data", str(path), "--tag-column", "lemmas"], capsys)
    assert code == 2 and "one of ['id', 'form', 'lemma', 'upos'" in lines[0]


def test_invalid_iob_is_refused_under_strict_iob(conll_folder, tmp_path, capsys):
    (conll_folder / "train.txt").write_text("Anna I-PER\nSchmidt I-PER\nvisited O\nBerlin I-LOC\n\n" * 12)
    code, lines = run_main(["--data", str(conll_folder), "--strict-iob", "--output-dir", str(tmp_path / "o")], capsys)
    assert code == 2 and len(lines) == 1
    assert "valid IOB2 tags" in lines[0] and "24 I- tags" in lines[0]
    assert not (tmp_path / "o").exists()


def test_an_empty_file(tmp_path, capsys):
    (tmp_path / "empty.conll").write_text("\n\n-DOCSTART- O\n\n")
    code, lines = run_main(["--data", str(tmp_path / "empty.conll")], capsys)
    assert code == 2 and "Expected tagged sentences in empty.conll" in lines[0]


def test_missing_data(tmp_path, capsys):
    code, lines = run_main(["--data", str(tmp_path / "nowhere.conll")], capsys)
    assert code == 2 and "Expected --data to be an existing file or folder" in lines[0]


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([""], "Expected a sentence with at least one word or symbol. Received: ''"),
        (["   "], "Expected a sentence with at least one word or symbol"),
        ([], "Expected at least one input"),
    ],
)
def test_predict_refuses_empty_input(quick_run, inputs, message):
    output, _ = quick_run
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            "text_analysis",
            "--model",
            str(output / "models" / "cnn.keras"),
            *inputs,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    # TensorFlow's own start-up lines may precede it; ours is one line, last.
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rnn-apps: error: ") and message in last, result.stderr[-1000:]


def test_predict_needs_the_sidecar(quick_run, tmp_path):
    output, _ = quick_run
    lonely = tmp_path / "lonely.keras"
    lonely.write_bytes((output / "models" / "cnn.keras").read_bytes())
    with pytest.raises(errors.InputError, match="the tag list lonely.json"):
        text_analysis.RECIPE.predict(lonely, ["Anna visited Rome."])


# --------------------------------------------------------------------------
# Options: character features, CRF, unidirectional, parts of speech


def test_char_features_and_crf_train_save_and_predict(conll_folder, tmp_path):
    output = tmp_path / "run"
    report = text_analysis.main(
        [
            "--data",
            str(conll_folder),
            "--model",
            "gru,cnn",
            "--char-features",
            "--crf",
            "--unidirectional",
            "--lowercase",
            "--quick",
            "--epochs",
            "1",
            "--output-dir",
            str(output),
            "--verbose",
            "0",
        ]
    )
    assert set(report["models"]) == {"gru", "cnn", "most_frequent_tag"}
    sidecar = json.loads((output / "models" / "gru.json").read_text())
    assert sidecar["crf"] is True and sidecar["char_length"] == 7  # the longest training word
    rows = text_analysis.RECIPE.predict(output / "models" / "gru.keras", ["Anna Schmidt visited Berlin."])
    assert rows[0]["tagged"].split()[0].startswith("Anna/")
    model = keras.models.load_model(output / "models" / "cnn.keras")
    assert {"tokens", "characters"} == set(model.input)
    # --lowercase: one word id for every casing, so only the characters tell them apart.
    lookup = model.get_layer("word_lookup")
    ids = keras.ops.convert_to_numpy(lookup(np.array([["Anna", "ANNA", "anna"]], dtype=object)))
    assert ids[0, 0] == ids[0, 1] == ids[0, 2] > 1


def test_parts_of_speech_from_conllu(tmp_path):
    rows = [
        "# text = Anna sees Rome .",
        "1\tAnna\tAnna\tPROPN\tNNP\t_\t2\tnsubj\t_\t_",
        "2-3\tsees\t_\t_\t_\t_\t_\t_\t_\t_",
        "2\tsees\tsee\tVERB\tVBZ\t_\t0\troot\t_\t_",
        "3\tRome\tRome\tPROPN\tNNP\t_\t2\tobj\t_\t_",
        "3.1\tx\tx\tX\tX\t_\t_\t_\t_\t_",
        "4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_",
        "",
    ]
    path = tmp_path / "pos.conllu"
    path.write_text("\n".join(rows * 20) + "\n")
    report = text_analysis.main(
        ["--data", str(path), "--model", "cnn", "--quick", "--epochs", "1", "--output-dir", str(tmp_path / "o")]
    )
    assert report["task"] == "tags" and report["primary_metric"] == "token_accuracy"
    assert report["tag_names"] == ["PROPN", "PUNCT", "VERB"]
    assert "macro_f1" in report["models"]["cnn"]["metrics"]
    rows = text_analysis.RECIPE.predict(tmp_path / "o" / "models" / "cnn.keras", ["Anna sees Rome."])
    assert rows[0]["entities"] == "" and len(rows[0]["tagged"].split()) == 4


def encoder_config(name: str, cfg) -> encoders.EncoderConfig:
    """The factory's specification of the encoder that ``build_tagger`` writes out for model ``name``."""
    if name == "cnn":
        return encoders.EncoderConfig(
            model="cnn",
            cnn_kind="dilated",
            filters=cfg.filters,
            kernel_size=3,
            num_layers=cfg.cnn_layers,
            dropout=cfg.dropout,
        )
    return encoders.EncoderConfig(
        model=name,
        units=cfg.units,
        num_layers=cfg.layers,
        bidirectional=not cfg.unidirectional,
        dropout=cfg.dropout,
        recurrent_dropout=cfg.recurrent_dropout,
    )


def test_default_settings_build_every_model():
    """The full-size defaults (not only --quick) give a complete configuration."""
    cfg = text_analysis.RECIPE.parse([])
    assert cfg.model == ("simple_rnn", "lstm", "gru", "cnn")
    vocabulary = token_vocabulary.TaggingVocabulary([f"w{i}" for i in range(48)])
    for name in cfg.model:
        model = text_analysis.build_tagger(name, cfg, num_tags=7, vocabulary=vocabulary)
        assert model.output.shape[-1] == 7
        factory = taggers.tagger(
            encoder_config(name, cfg), num_tags=7, vocabulary_size=50, embedding_dim=cfg.embedding_dim
        )
        assert factory.output.shape[-1] == 7 and model.count_params() == factory.count_params()
    assert encoder_config("lstm", cfg).bidirectional is True
    assert isinstance(
        text_analysis.build_tagger("lstm", cfg, 7, vocabulary).get_layer("encoder_bidirectional_1"),
        keras.layers.Bidirectional,
    )


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize(
    "flags",
    [[], ["--layers", "2", "--unidirectional", "--dropout", "0.1"], ["--char-features", "--crf", "--cnn-layers", "2"]],
    ids=["default", "two-layers-unidirectional", "chars-crf"],
)
def test_the_recipes_plain_keras_model_is_the_factorys(model, flags):
    cfg = text_analysis.RECIPE.parse(["--units", "8", "--embedding-dim", "6", "--filters", "5", *flags])
    chars = list("abcdef") if cfg.char_features else None
    vocabulary = token_vocabulary.TaggingVocabulary([f"w{i}" for i in range(18)], chars, 4 if chars else None)
    plain = text_analysis.build_tagger(model, cfg, num_tags=5, vocabulary=vocabulary)
    factory = taggers.tagger(
        encoder_config(model, cfg),
        num_tags=5,
        vocabulary_size=20,
        embedding_dim=6,
        char_vocabulary_size=8 if chars else None,
        char_length=4 if chars else None,
        embedding_dropout=cfg.embedding_dropout,
        crf=cfg.crf,
        name=model,
    )
    assert plain.count_params() == factory.count_params()
    assert sorted(type(layer).__name__ for layer in plain.layers) == sorted(
        type(layer).__name__ for layer in factory.layers
    )
    assert [layer.name for layer in plain.layers] == [layer.name for layer in factory.layers]
    assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights]
    factory.set_weights(plain.get_weights())
    inputs = {"token_ids": np.array([[3, 4, 5, 6, 7, 0, 0], [2, 9, 0, 0, 0, 0, 0]], dtype="int32")}
    if chars:
        inputs["char_ids"] = np.random.default_rng(0).integers(0, 8, size=(2, 7, 4)).astype("int32")
    np.testing.assert_allclose(plain.predict_on_batch(inputs), factory.predict_on_batch(inputs), atol=1e-6)
