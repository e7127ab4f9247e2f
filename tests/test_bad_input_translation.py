"""Bad input for the translation recipe: its flags, TSV files, Multi30k-style folders, tfds, and predict."""

import gzip

import keras
import pytest
import tensorflow_datasets as tfds
from test_bad_input import library_error, predict_error, run_error, tiny_models

from recipes import translation
from rnn_apps.data import parallel

PAIRS = "".join(f"word{i} one\tmot{i} un\n" for i in range(40))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--attention", "luong"], "argument --attention: invalid choice: 'luong'"),
        (["--beam-size", "0"], "argument --beam-size: expected a positive integer, received '0'"),
        (["--max-output-length", "-2"], "argument --max-output-length: expected a positive integer"),
        (["--source-length", "0"], "argument --source-length: expected a positive integer"),
        (["--min-frequency", "0"], "argument --min-frequency: expected a positive integer"),
        (["--heatmaps", "x"], "argument --heatmaps: expected a positive integer, received 'x'"),
        (
            ["--source-lang", "de"],
            "Expected --source-lang to be a language with a train.<lang> file, one of ['en', 'fr']",
        ),
        (["--target-lang", "en"], "Expected two different languages. Received: 'en -> en'"),
    ],
)
def test_flags(argv, message, tmp_path, capsys):
    assert message in run_error("translation", argv, tmp_path, capsys)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--min-frequency", "3"], "Expected source training words seen at least 3 times (--min-frequency)"),
        (["--vocabulary-size", "2"], "and room for them in --vocabulary-size. Received: 'none among"),
        (["--max-pairs", "1", "--min-frequency", "2"], "Received: 'none among 1 training pairs"),
    ],
)
def test_settings_that_leave_an_empty_vocabulary(argv, message, tmp_path, capsys):
    """An empty vocabulary used to reach Keras as 'Cannot set an empty vocabulary'."""
    (tmp_path / "pairs.tsv").write_text("".join(f"w{i}\tm{i}\n" for i in range(40)))
    assert message in run_error("translation", [*argv, "--data", str(tmp_path / "pairs.tsv")], tmp_path, capsys)


FILES = [
    ("empty.tsv", "", "Expected at least one sentence pair. Received: 'an empty file"),
    ("one_column.tsv", "hello\nworld\n", "Expected source<TAB>target[<TAB>attribution] on every line"),
    ("blank_line.tsv", "a\tb\n\nc\td\n", "Expected a tab-separated sentence pair on every line. Received: 'an empty"),
    ("same_source.tsv", "hi\tsalut\n" * 10, "Expected at least two different source sentences to split"),
    ("binary.tsv", bytes(range(256)) * 4, "Received: 'binary.tsv, line 2: byte 0x80 is not utf-8'"),
    ("too_few.tsv", "a\tb\nc\td\n", "Expected at least two different source sentences to split. Received: '1'"),
]


@pytest.mark.parametrize("filename, content, message", FILES, ids=[f for f, _, _ in FILES])
def test_malformed_files(filename, content, message, tmp_path, capsys):
    path = tmp_path / filename
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert message in run_error("translation", ["--data", str(path)], tmp_path, capsys)


def _folder(root, files):
    root.mkdir()
    for name, lines in files.items():
        text = "".join(f"{line}\n" for line in lines)
        path = root / name
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return root


WORDS = [f"w{i}" for i in range(10)]


@pytest.mark.parametrize(
    "files, argv, message",
    [
        ({}, [], "Expected a folder with train.<lang> files (Multi30k layout)"),
        ({"train.en": ["a", "b"], "train.fr": ["a"]}, [], "Expected line-aligned parallel files with the same number"),
        ({"train.en": WORDS, "train.fr": WORDS}, [], "Expected test.<lang> (or test*.<lang>) files beside train"),
        (
            {"train.en": WORDS, "train.fr": WORDS, "train.de": WORDS},
            [],
            "Expected --source-lang and --target-lang, two of ['de', 'en', 'fr']. Received: 'none given'",
        ),
        ({"train.en": ["a", "", "c"], "train.fr": ["a", "b", "c"]}, [], "Expected a sentence on every line"),
        ({"train.en.gz": WORDS, "train.fr": WORDS}, [], "Expected test.<lang>"),
    ],
    ids=["empty", "unaligned", "no-test", "three-languages", "empty-line", "gz-ok-but-no-test"],
)
def test_malformed_folders(files, argv, message, tmp_path, capsys):
    root = _folder(tmp_path / "multi30k", files)
    assert message in run_error("translation", ["--data", str(root), *argv], tmp_path, capsys)


def test_a_file_named_gz_that_is_not_gzip(tmp_path, capsys):
    root = tmp_path / "multi30k"
    root.mkdir()
    for name in ("train.en.gz", "train.fr.gz", "test.en", "test.fr"):
        (root / name).write_bytes(b"not gzip")
    line = run_error("translation", ["--data", str(root)], tmp_path, capsys)
    assert "Expected a readable file. Received:" in line and "Not a gzipped file" in line


def test_tensorflow_datasets(tmp_path, capsys):
    with tfds.testing.mock_data(num_examples=4):
        line = run_error(
            "translation", ["--data", "ted_hrlr_translate/pt_to_en", "--source-lang", "xx"], tmp_path, capsys
        )
    assert "Expected --source-lang to be one of ['pt', 'en']. Received: 'xx'" in line
    line = run_error("translation", ["--data", "no_such_set/a_to_b"], tmp_path, capsys)
    assert "Received: --data=\"'no_such_set/a_to_b' (DatasetNotFoundError)\"" in line


def test_library_functions(tmp_path):
    library_error(parallel.load_parallel, tmp_path / "missing.tsv", match="'sample', a folder of parallel files")
    data = parallel.ParallelData("toy", "en", "fr", (["a b"], ["c d"]), (["a"], ["c"]), (["b"], ["d"]))
    library_error(parallel.make_vocabularies, data, 0, 1, match="vocabulary_size")
    library_error(parallel.make_vocabularies, data, 100, 2, match="at least 2 times")


# --------------------------------------------------------------------------
# predict (the checks before a model is needed, and models that are not translators)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["text"])


@pytest.mark.parametrize("sentence", ["", "  ...  ", "@@ !!"])
def test_predict_refuses_a_sentence_without_words(models, sentence, capsys):
    line = predict_error("translation", models["text"], ["a man", sentence], capsys)
    assert "Expected a sentence with at least one word to translate. Received:" in line


def test_predict_refuses_a_model_that_is_not_a_translator(models, capsys):
    line = predict_error("translation", models["text"], ["a red car"], capsys)
    assert "Expected a .keras model saved by this recipe. Received:" in line


def test_predict_library(models):
    library_error(translation.RECIPE.predict, models["text"], [], match="at least one sentence to translate")


def test_predict_refuses_an_id_model_without_its_vocabularies(tmp_path, capsys):
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import seq2seq

    core = seq2seq.seq2seq(encoders.EncoderConfig(model="gru", units=4), 5, 6, 4, 3, embedding_dim=4)
    model = seq2seq.IdTranslator.build(core, ["a", "car"], [seq2seq.START, seq2seq.END, "une"], 4, 3)
    path = model.save(tmp_path / "ids.keras")
    sidecar = tmp_path / "ids.vocabulary.json"
    sidecar.write_text('{"source": {"vocabulary": ["a"]')
    line = predict_error("translation", path, ["a car"], capsys)
    assert "Expected the vocabularies saved beside the model. Received:" in line
    sidecar.unlink()
    line = predict_error("translation", path, ["a car"], capsys)
    assert "Expected the vocabularies ids.vocabulary.json saved beside the model. Received: 'no such file'" in line
    model.save(path)
    sidecar.write_text(sidecar.read_text().replace('"sequence_length": 3', '"sequence_length": 5'))
    line = predict_error("translation", path, ["a car"], capsys)
    assert "Expected a target length of 3 in ids.vocabulary.json. Received: 5" in line


def test_predict_refuses_an_id_model_that_is_not_a_translator(tmp_path, capsys):
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    path = tmp_path / "ids.keras"
    keras.Model(ids, keras.layers.Embedding(4, 2, name="embed")(ids)).save(path)
    line = predict_error("translation", path, ["a car"], capsys)
    assert "Expected a translation model with inputs prefix_ids and source_ids. Received: ['token_ids']" in line
