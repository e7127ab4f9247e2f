"""The translation recipe: quick run, saved-model decoding, beam search, data loading and bad input."""

import gzip
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import quick_runs
import sacrebleu
import tensorflow_datasets as tfds
from conftest import REPO

from recipes import translation
from rnn_apps import errors, paths
from rnn_apps.data import parallel
from rnn_apps.harness import cli
from rnn_apps.tasks import seq2seq_inference

MODELS = {"simple_rnn", "lstm", "gru", "cnn", "copy_source"}
SENTENCES = ["The small red car sees three dogs.", "A big white house follows the cats."]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    return quick_runs.quick_run("translation", tmp_path_factory)


def test_metrics_json_follows_the_contract(quick_run):
    output, report = quick_run
    on_disk = json.loads((output / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["recipe"] == "translation" and on_disk["primary_metric"] == "bleu"
    assert set(on_disk["models"]) == MODELS
    scores = {"bleu", "chrf", "bleu_lowercase_tokenized", "chrf_lowercase_tokenized"}
    for name, entry in on_disk["models"].items():
        assert set(entry["metrics"]) == scores | {"exact_match"}, name
        assert all(0 <= entry["metrics"][key] <= 100 for key in scores) and 0 <= entry["metrics"]["exact_match"] <= 1
        assert isinstance(entry["params"], int)
        assert isinstance(entry["train_seconds"], float) and isinstance(entry["predict_ms_per_sample"], float)
    kernels = {name: entry["fast_kernel"] for name, entry in on_disk["models"].items()}
    assert kernels == {"simple_rnn": False, "lstm": True, "gru": True, "cnn": None, "copy_source": None}


def test_metrics_json_carries_each_scores_sacrebleu_signature(quick_run):
    _, report = quick_run
    signatures = report["signatures"]
    assert set(signatures) == {"bleu", "chrf", "bleu_lowercase_tokenized", "chrf_lowercase_tokenized"}
    version = "version:" + sacrebleu.__version__
    assert signatures["bleu"] == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|{version}"
    assert signatures["chrf"] == f"nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|{version}"
    assert signatures["bleu_lowercase_tokenized"].startswith("nrefs:1|case:mixed|eff:no|tok:none|")
    assert "lower-cased" in signatures["bleu_lowercase_tokenized"]
    assert "lower-cased" in signatures["chrf_lowercase_tokenized"]


def test_headline_bleu_is_sacrebleus_standard_score_of_the_detokenised_output():
    hypotheses = ["a man in a blue shirt is sitting on a bench .", "two dogs ' toys lie on the grass ."]
    references = ["A man in a blue shirt is sitting on a bench.", "Two dogs' toys lie on the grass."]
    scores = seq2seq_inference.score(hypotheses, references)
    detokenised = [parallel.detokenize(hypothesis) for hypothesis in hypotheses]
    assert detokenised == references
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(detokenised, [references]).score, abs=1e-3)
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(detokenised, [references]).score, abs=1e-3)
    assert scores["bleu"] == scores["bleu_lowercase_tokenized"] == 100.0 and scores["exact_match"] == 1.0
    # A name the lower-cased model cannot capitalise costs the headline score, not the tokenized one.
    named = seq2seq_inference.score(["a dog runs in paris ."], ["A dog runs in Paris."])
    assert named["bleu"] < 100.0 and named["bleu_lowercase_tokenized"] == 100.0


@pytest.mark.parametrize(
    "sentence",
    [
        "A man, a plan: a canal (Panama)!",
        "The boy's 3.5-year-old dog jumps over a 10,000 m fence.",
        'She says "hello" to him.',
        "L'homme d'affaires a quatre-vingt-dix-neuf chevaux ; il rit ?",
        "Is it 50% off? Yes/no.",
    ],
)
def test_detokenize_undoes_tokenize_up_to_case(sentence):
    restored = parallel.detokenize(parallel.tokenize(sentence))
    expected = sentence.lower()
    # French puts a space before ; and ? that the tokenized text does not keep.
    expected = expected.replace(" ;", ";").replace(" ?", "?")
    assert restored == expected[:1].upper() + expected[1:]


def test_models_learn_something(quick_run):
    _, report = quick_run
    bleu = {name: entry["metrics"]["bleu"] for name, entry in report["models"].items()}
    assert max(bleu["gru"], bleu["cnn"]) > bleu["copy_source"] + 3, bleu


def test_artifacts_are_written(quick_run):
    output, _ = quick_run
    for name in ("gru", "cnn"):
        assert (output / "models" / f"{name}.keras").is_file()
        assert (output / "logs" / f"{name}.csv").read_text().startswith("epoch,")
    for image in ("learning_curves.png", "attention.png"):
        assert (output / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "python -m recipes.translation --quick" in (output / "comparison.md").read_text()


def test_saved_model_loads_without_rnn_apps_in_a_fresh_process(quick_run):
    output, _ = quick_run
    script = (
        "import sys, keras, numpy as np;"
        "m = keras.models.load_model(sys.argv[1]);"
        "assert not [k for k in sys.modules if k.startswith('rnn_apps')];"
        "out = m.predict_on_batch({'source': np.array(['The red car.'], dtype=object),"
        " 'prefix': np.array(['[start]'], dtype=object)});"
        "print(out['log_probs'].shape[0], m.get_layer('target_vectorizer').vocabulary_size())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(output / "models" / "cnn.keras")], capture_output=True, text=True, cwd="/"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[0] == "1"


def test_rnn_apps_predict_translates_raw_strings_in_a_fresh_process(quick_run):
    output, _ = quick_run
    model = output / "models" / "gru.keras"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_apps.harness.cli",
            "predict",
            "translation",
            "--model",
            str(model),
            "--format",
            "json",
        ]
        + SENTENCES,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [row["text"] for row in rows] == SENTENCES
    here = translation.RECIPE.predict(model, SENTENCES)
    assert [row["translation"] for row in rows] == [row["translation"] for row in here]
    assert all(row["translation"] for row in rows)


def test_beam_size_one_gives_the_greedy_output(quick_run):
    output, _ = quick_run
    from rnn_apps.tasks import seq2seq

    model = keras.models.load_model(output / "models" / "cnn.keras")
    sentences = parallel.load_parallel(paths.bundled("translation"), "en", "fr").test[0][:12]
    greedy = seq2seq.translate(model, sentences, beam_size=1)
    vocabulary = model.get_layer("target_vectorizer").get_vocabulary()
    banned = [0, vocabulary.index(seq2seq.START)]
    _, limit = seq2seq.model_limits(model)
    one_beam = seq2seq._beam(model, sentences, vocabulary, vocabulary.index(seq2seq.END), banned, limit, 1, 0.6)
    assert [g["translation"] for g in greedy] == [b["translation"] for b in one_beam]
    np.testing.assert_allclose([g["score"] for g in greedy], [b["score"] for b in one_beam], rtol=1e-6)
    wider = seq2seq.translate(model, sentences, beam_size=3, max_length=5)
    assert all(len(row["translation"].split()) <= 5 for row in wider)


def test_over_long_sentence_is_truncated_with_a_notice(quick_run, capsys):
    output, _ = quick_run
    long_sentence = " ".join(["the red car sees a dog"] * 20)
    rows = translation.RECIPE.predict(output / "models" / "gru.keras", [long_sentence], beam_size=2)
    assert "notice: the model reads at most" in capsys.readouterr().err
    assert len(rows) == 1


def test_empty_sentence_is_refused(quick_run):
    output, _ = quick_run
    with pytest.raises(errors.InputError, match="at least one word"):
        translation.RECIPE.predict(output / "models" / "gru.keras", ["  ...  "])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "translation", "--model", str(output / "models" / "gru.keras"), ""])
    assert exit_info.value.code == 2


# --- data ---------------------------------------------------------------------------------------------------------


def test_bundled_test_pairs_do_not_occur_in_training():
    data = parallel.load_parallel(paths.bundled("translation"), "en", "fr")
    assert data.sizes() == {"train": 3000, "validation": 300, "test": 300}
    train = set(data.train[0])
    assert not train & set(data.test[0])
    assert not train & set(data.validation[0])
    assert not set(data.validation[0]) & set(data.test[0])


def test_bundled_sample_needs_reordering_and_agreement():
    data = parallel.load_parallel(paths.bundled("translation"), "en", "fr")
    pairs = list(zip(*data.train))
    # colour after the noun, gender agreement, spelled-out numbers
    assert any("red car" in en.lower() and "voiture rouge" in fr.lower() for en, fr in pairs)
    assert any("white house" in en.lower() and "maison blanche" in fr.lower() for en, fr in pairs)
    assert any("twenty-one" in en.lower() and "vingt et un" in fr.lower() for en, fr in pairs)


def write_parallel(folder, counts, languages=("de", "en"), empty=None):
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in counts.items():
        for lang in languages:
            lines = [f"{lang} sentence {split} {i}" for i in range(count)]
            if empty and empty == (split, lang):
                lines[1] = ""
            with gzip.open(folder / f"{split}.{lang}.gz", "wt", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
    return folder


def test_folder_of_parallel_files_multi30k_layout(tmp_path):
    folder = write_parallel(tmp_path / "m30k", {"train": 8, "val": 3, "test_2016_flickr": 4}, ("de", "en", "fr"))
    data = parallel.load_parallel(folder, "de", "en")
    assert data.sizes() == {"train": 8, "validation": 3, "test": 4}
    assert data.train[0][0] == "de sentence train 0" and data.train[1][0] == "en sentence train 0"
    with pytest.raises(errors.InputError, match="--source-lang and --target-lang"):
        parallel.load_parallel(folder)


def test_training_pairs_drop_wordless_sources_before_max_pairs(tmp_path, capsys):
    folder = write_parallel(tmp_path / "m", {"train": 6, "val": 3, "test": 4})
    lines = [f"de sentence train {i}" for i in range(6)]
    lines[0] = "@@"
    with gzip.open(folder / "train.de.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    data = parallel.load_training_pairs(folder, "de", "en", max_pairs=3, test_limit=2)
    assert "notice: dropped 1 train pair(s) whose source has no word" in capsys.readouterr().out
    assert data.sizes() == {"train": 3, "validation": 3, "test": 2}
    assert data.train[0][0] == "de sentence train 1"
    assert parallel.longest(data.train) == (4, 4)


def test_mismatched_line_counts_are_refused(tmp_path):
    folder = write_parallel(tmp_path / "m", {"train": 5, "val": 2, "test": 2})
    with gzip.open(folder / "val.en.gz", "wt", encoding="utf-8") as handle:
        handle.write("one\n")
    with pytest.raises(errors.InputError, match="same number of lines"):
        parallel.load_parallel(folder, "de", "en")


def test_empty_lines_are_refused(tmp_path):
    folder = write_parallel(tmp_path / "m", {"train": 5, "val": 2, "test": 2}, empty=("train", "en"))
    with pytest.raises(errors.InputError, match=r"an empty line 2 in .*train\.en\.gz"):
        parallel.load_parallel(folder, "de", "en")


def test_language_without_a_file_is_refused(tmp_path):
    folder = write_parallel(tmp_path / "m", {"train": 5, "val": 2, "test": 2})
    with pytest.raises(errors.InputError, match=r"--target-lang to be a language .* one of \['de', 'en'\]"):
        parallel.load_parallel(folder, "de", "fr")


def test_tab_separated_pairs_ignore_the_attribution_column(tmp_path):
    rows = [f"Go {i}.\tVa {i} !\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}" for i in range(40)]
    rows += ["Go 0.\tMarche 0 !\tCC-BY"]  # a second translation of one source
    path = tmp_path / "fra.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = parallel.load_parallel(path, test_fraction=0.2, validation_fraction=0.2, seed=1)
    assert sum(data.sizes().values()) == 41
    assert not set(data.train[0]) & set(data.test[0])
    assert all("tatoeba" not in t and "CC-BY" not in t for t in data.train[1] + data.test[1])
    bad = tmp_path / "bad.tsv"
    bad.write_text("Go.\tVa !\nno tab here\n", encoding="utf-8")
    with pytest.raises(errors.InputError, match="line 2"):
        parallel.load_parallel(bad)


def test_tfds_translation_config_offline_with_mock_data():
    with tfds.testing.mock_data(num_examples=12):
        data = parallel.load_parallel("ted_hrlr_translate/pt_to_en")
        reverse = parallel.load_parallel("ted_hrlr_translate/pt_to_en", source_lang="en", target_lang="pt")
    assert data.name == "ted_hrlr_translate/pt_to_en pt->en"
    assert data.sizes() == {"train": 12, "validation": 12, "test": 12}
    assert reverse.train == (data.train[1], data.train[0])
    with tfds.testing.mock_data(num_examples=4), pytest.raises(errors.InputError, match="one of"):
        parallel.load_parallel("ted_hrlr_translate/pt_to_en", source_lang="de")


def test_cli_reports_bad_data_with_exit_status_2(tmp_path, capsys):
    folder = write_parallel(tmp_path / "m", {"train": 5, "val": 2, "test": 2})
    argv = ["--data", str(folder), "--source-lang", "de", "--target-lang", "xx", "--output-dir", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_info:
        translation.main(argv)
    assert exit_info.value.code == 2
    assert "Expected --target-lang" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_parser_offers_the_translation_flags():
    args = translation.RECIPE.parse(["--beam-size", "4", "--attention", "dot", "--source-lang", "de"])
    assert (args.beam_size, args.attention, args.source_lang) == (4, "dot", "de")


def test_flag_defaults_and_the_quick_preset_are_the_documented_ones():
    defaults = translation.RECIPE.parse([])
    expected = dict(epochs=30, batch_size=64, units=256, embedding_dim=256, filters=256, cnn_layers=4, dropout=0.3)
    expected |= dict(vocabulary_size=10000, min_frequency=2, source_length=40, target_length=40, learning_rate=1e-3)
    expected |= dict(patience=3, beam_size=1, attention="additive", heatmaps=3, max_pairs=None, test_limit=None)
    assert {key: getattr(defaults, key) for key in expected} == expected
    quick = translation.RECIPE.parse(["--quick", "--epochs", "2"])
    assert quick.epochs == 2 and quick.max_pairs and quick.test_limit and quick.units < defaults.units


@pytest.mark.parametrize("model", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize("layers, bidirectional, attention", [(1, False, "additive"), (2, True, "dot")])
def test_the_recipes_plain_keras_model_is_the_factorys(model, layers, bidirectional, attention):
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import seq2seq

    flags = ["--units", "6", "--embedding-dim", "4", "--filters", "5", "--layers", str(layers)]
    flags += ["--cnn-layers", str(layers), "--attention", attention, "--dropout", "0.1"]
    cfg = translation.RECIPE.parse(flags + (["--bidirectional"] if bidirectional else []))
    build = translation.convolutional_seq2seq if model == "cnn" else translation.recurrent_seq2seq
    plain = build(model, cfg, 11, 13, 7, 6)
    encoder = encoders.EncoderConfig(model=model, units=6, num_layers=layers, bidirectional=bidirectional, filters=5)
    factory = seq2seq.seq2seq(encoder, 11, 13, 7, 6, embedding_dim=4, attention=attention, dropout=0.1)
    assert plain.name == factory.name
    assert plain.count_params() == factory.count_params()
    kinds = [type(layer).__name__ for layer in factory.layers]
    assert sorted(type(layer).__name__ for layer in plain.layers) == sorted(kinds)
    assert sorted(layer.name for layer in plain.layers) == sorted(layer.name for layer in factory.layers)
    assert [w.shape for w in plain.weights] == [w.shape for w in factory.weights]
    factory.set_weights(plain.get_weights())
    source = np.array([[3, 4, 5, 0, 0, 0, 0], [2, 9, 8, 7, 6, 5, 4]], dtype="int32")
    target = np.array([[2, 5, 6, 0, 0, 0], [2, 3, 4, 5, 6, 7]], dtype="int32")
    here, there = (m.predict_on_batch({"source": source, "target": target}) for m in (plain, factory))
    for key in ("logits", "attention"):
        np.testing.assert_allclose(here[key], there[key], atol=1e-5)


@pytest.mark.parametrize("name", ["gru", "cnn"])
def test_source_without_words_gets_an_empty_translation(quick_run, name):
    from rnn_apps.tasks import seq2seq

    output, _ = quick_run
    model = keras.models.load_model(output / "models" / f"{name}.keras")
    for beam_size in (1, 2):
        rows = seq2seq.translate(model, ["@@", "The red car sees a dog.", "...", "A dog."], beam_size=beam_size)
        assert [rows[0], rows[2]] == [{"translation": "", "score": 0.0, "finished": True}] * 2
        assert rows[1]["translation"] and rows[3]["translation"]


@pytest.mark.parametrize("name", ["gru", "cnn"])
def test_id_translator_translates_as_the_string_model(quick_run, name):
    # What JAX and PyTorch save (the id model, vocabularies looked up in Python), with the trained weights.
    from rnn_apps import backend
    from rnn_apps.tasks import seq2seq

    output, _ = quick_run
    string_model = seq2seq.load_translator(output / "models" / f"{name}.keras")
    assert backend.takes_strings(string_model)
    core = next(layer for layer in string_model.layers if isinstance(layer, keras.Model))
    source_length, longest = seq2seq.model_limits(string_model)
    source = backend.WordVectorizer.from_layer(string_model.get_layer("source_vectorizer"), source_length)
    target = backend.WordVectorizer.from_layer(string_model.get_layer("target_vectorizer"), longest + 1)
    ids_model = seq2seq.IdTranslator(seq2seq.id_inference_model(core, longest + 1), source, target)
    assert seq2seq.model_limits(ids_model) == (source_length, longest)
    assert seq2seq.target_vocabulary(ids_model) == seq2seq.target_vocabulary(string_model)
    sentences = [*parallel.load_parallel(paths.bundled("translation"), "en", "fr").test[0][:10], "@@", SENTENCES[0]]
    for beam_size in (1, 3):
        expected = seq2seq.translate(string_model, sentences, beam_size=beam_size)
        found = seq2seq.translate(ids_model, sentences, beam_size=beam_size)
        assert [row["translation"] for row in found] == [row["translation"] for row in expected]
        np.testing.assert_allclose([r["score"] for r in found], [r["score"] for r in expected], rtol=1e-5)


def test_stream_prints_each_word_as_the_recurrent_decoder_chooses_it(quick_run, capsys):
    from rnn_apps.tasks import seq2seq

    output, _ = quick_run
    path = output / "models" / "gru.keras"
    sentences = translation.RECIPE.examples()
    assert cli.main(["stream", "translation", "--model", str(path), "--format", "json", *sentences]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    greedy = seq2seq.translate(seq2seq.load_translator(path), sentences, beam_size=1)
    for number, expected in enumerate(greedy, 1):
        words = [row for row in rows if row["sentence"] == number]
        assert [row["position"] for row in words] == list(range(1, len(words) + 1))
        assert " ".join(row["word"] for row in words) == expected["translation"]
        assert all(0 < row["probability"] <= 1 for row in words)


def test_stream_refuses_the_convolutional_decoder(quick_run, capsys):
    output, _ = quick_run
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stream", "translation", "--model", str(output / "models" / "cnn.keras"), "Ein Hund."])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "recurrent decoder" in error
