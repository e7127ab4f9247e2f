"""``--embeddings PATH``: pretrained word vectors from a local text file start the word embedding."""

import gzip
import json

import keras
import numpy as np
import pytest

from recipes import sentiment, text_analysis
from recipes.configs.sentiment import SentimentConfig
from rnn_apps import errors
from rnn_apps.data import word_vectors
from rnn_apps.harness import tuning

VOCABULARY = ["", "[UNK]", "film", "Good", "plot", "dull"]


def write_vectors(path, rows: dict, header: bool = False, opener=open) -> None:
    """A vectors file in GloVe's layout, or word2vec's with ``header``."""
    width = len(next(iter(rows.values())))
    with opener(path, "wt", encoding="utf-8") as handle:
        if header:
            handle.write(f"{len(rows)} {width}\n")
        for word, vector in rows.items():
            handle.write(word + " " + " ".join(f"{value:.6f}" for value in vector) + "\n")


def test_glove_word2vec_and_gzip_layouts_give_the_same_rows(tmp_path):
    rows = {"film": [0.5, -1.0, 2.0], "good": [1.0, 0.0, -0.5], "unrelated": [9.0, 9.0, 9.0]}
    write_vectors(tmp_path / "glove.txt", rows)
    write_vectors(tmp_path / "model.vec", rows, header=True)
    write_vectors(tmp_path / "glove.txt.gz", rows, opener=gzip.open)
    tables = [
        word_vectors.read(tmp_path / name, VOCABULARY, seed=3) for name in ("glove.txt", "model.vec", "glove.txt.gz")
    ]
    for vectors in tables:
        assert vectors.dim == 3 and vectors.found == 2 and vectors.words == 4
        assert vectors.matrix.shape == (6, 3) and vectors.matrix.dtype == np.float32
        np.testing.assert_allclose(vectors.matrix[2], rows["film"])
        np.testing.assert_allclose(vectors.matrix[3], rows["good"])  # "Good" falls back to its lower-case form
        assert not vectors.matrix[0].any()  # padding stays zero
        np.testing.assert_array_equal(vectors.matrix, tables[0].matrix)  # seeded rows for the words not found
    missing = tables[0].matrix[[1, 4, 5]]
    assert missing.std() > 0 and not np.allclose(missing[0], missing[1])


def test_exact_case_wins_over_the_lower_case_fallback(tmp_path):
    write_vectors(tmp_path / "v.txt", {"good": [1.0, 1.0], "Good": [-2.0, 3.0]})
    vectors = word_vectors.read(tmp_path / "v.txt", VOCABULARY)
    np.testing.assert_allclose(vectors.matrix[3], [-2.0, 3.0])
    write_vectors(tmp_path / "lower.txt", {"good": [1.0, 1.0]})
    assert word_vectors.read(tmp_path / "lower.txt", VOCABULARY).found == 1
    with pytest.raises(errors.InputError, match="none of 4 words found"):
        word_vectors.read(tmp_path / "lower.txt", VOCABULARY, lowercase_fallback=False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "at least one word vector"),
        ("film 1 2 3\ngood 1 2\n", "3 numbers after each word"),
        ("film 1 x 3\n", "numbers after the word"),
        ("other 1 2\nwords 3 4\n", "none of 4 words found"),
    ],
)
def test_bad_vector_files_are_refused_with_what_was_expected(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_text(content)
    with pytest.raises(errors.InputError, match=message):
        word_vectors.read(path, VOCABULARY)


def test_a_missing_file_and_freezing_without_vectors_are_refused():
    with pytest.raises(errors.InputError, match="word-vector text file"):
        word_vectors.read("/nonexistent/vectors.txt", VOCABULARY)
    with pytest.raises(errors.InputError, match="--embeddings PATH"):
        word_vectors.for_run(None, True, VOCABULARY)
    assert word_vectors.for_run(None, False, VOCABULARY) is None


def sample_vectors(tmp_path, words, width=12, seed=0):
    """Vectors for every other word of ``words``, so some rows come from the file and some do not."""
    random = np.random.default_rng(seed)
    rows = {word: random.normal(0, 0.3, width).tolist() for word in words[::2]}
    path = tmp_path / "vectors.txt"
    write_vectors(path, rows)
    return path, rows


def embedding_table(model_path) -> np.ndarray:
    """The saved model's word-embedding table, wherever the string wrapper nests it."""
    model = keras.models.load_model(model_path)
    stack = [model]
    while stack:
        layer = stack.pop()
        if layer.name == "embedding":
            return np.asarray(layer.get_weights()[0])
        stack.extend(getattr(layer, "layers", []))
    raise AssertionError("no layer named embedding")


def test_sentiment_starts_from_the_vectors_and_freezing_keeps_them(tmp_path):
    data = sentiment.RECIPE.load_data(SentimentConfig(vocabulary_size=400))
    vocabulary = data.vectorizer.get_vocabulary()
    path, rows = sample_vectors(tmp_path, [word for word in vocabulary[2:] if word])
    tables = {}
    for mode in ("frozen", "tuned"):
        out = tmp_path / mode
        flags = ["--quick", "--model", "gru", "--epochs", "1", "--vocabulary-size", "400", "--embeddings", str(path)]
        flags += ["--output-dir", str(out), "--verbose", "0"] + (["--freeze-embeddings"] if mode == "frozen" else [])
        report = sentiment.main(flags)
        settings = json.loads((out / "metrics.json").read_text())["config"]
        assert settings["embedding_dim"] == 12 and settings["word_vectors"]["found"] == len(rows)
        assert settings["freeze_embeddings"] is (mode == "frozen")
        assert report["models"]["gru"]["metrics"]["accuracy"] >= 0
        tables[mode] = embedding_table(out / "models" / "gru.keras")
    expected = word_vectors.read(path, vocabulary, seed=settings["seed"]).matrix
    index = {word: i for i, word in enumerate(vocabulary)}
    found = [index[word] for word in rows]
    np.testing.assert_allclose(tables["frozen"], expected, atol=1e-6)  # every row, the random ones included
    assert not np.allclose(tables["tuned"][found], expected[found], atol=1e-4)  # fine-tuning moved them


def test_text_analysis_taggers_read_the_vectors_at_their_width(tmp_path):
    path, rows = sample_vectors(tmp_path, ["the", "of", "in", "and", "to", "a", "The", "for"], width=6)
    out = tmp_path / "run"
    flags = ["--quick", "--model", "cnn", "--epochs", "1", "--embeddings", str(path), "--output-dir", str(out)]
    text_analysis.main([*flags, "--verbose", "0"])
    settings = json.loads((out / "metrics.json").read_text())["config"]
    assert settings["embedding_dim"] == 6 and settings["word_vectors"]["found"] >= 1
    assert embedding_table(out / "models" / "cnn.keras").shape[1] == 6


def test_the_search_leaves_the_width_to_the_vectors(tmp_path):
    path, _ = sample_vectors(tmp_path, ["film"])
    assert "embedding_dim" in tuning.default_space("gru", SentimentConfig())
    assert "embedding_dim" not in tuning.default_space("gru", SentimentConfig(embeddings=str(path)))


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--freeze-embeddings"], "--embeddings PATH"), (["--embeddings", "/nonexistent.vec"], "word-vector text file")],
)
def test_the_command_line_refuses_bad_vector_flags_with_one_line(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        sentiment.main(["--quick", *flags, "--output-dir", str(tmp_path / "out")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "out" / "metrics.json").exists()
