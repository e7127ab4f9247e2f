"""Bad input for the text analysis recipe: its flags, CoNLL / CoNLL-U files and folders, tfds, and predict."""

import pytest
import tensorflow_datasets as tfds
from test_bad_input import copy_model, library_error, predict_error, run_error, tiny_models

from recipes import text_analysis
from rnn_apps.data import conll, tagging_data

SENTENCES = "".join(f"John{i} B-PER\nlives O\nin O\nParis B-LOC\n\n" for i in range(30))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--char-length", "0"], "argument --char-length: expected a positive integer, received '0'"),
        (["--min-count", "0"], "argument --min-count: expected a positive integer"),
        (["--cnn-layers", "-1"], "argument --cnn-layers: expected a positive integer"),
        (["--filters", "0"], "argument --filters: expected a positive integer"),
        (["--examples", "-1"], "argument --examples: expected a non-negative integer, received '-1'"),
        (["--recurrent-dropout", "1"], "argument --recurrent-dropout: expected a number in [0, 1)"),
        (["--monitor", "val_f1"], "argument --monitor: invalid choice: 'val_f1'"),
        (["--tag-column", "0"], "Expected a token and a tag in column 0 on line 1 of train.conll"),
        (["--tag-column", "5"], "Expected a token and a tag in column 5 on line 1 of train.conll"),
        (["--tag-column", "-3"], "Expected a token and a tag in column -3 on line 1 of train.conll"),
        (["--tag-column", "upos"], "Expected --tag-column to be a column number (0 is the token, -1 the last)"),
    ],
)
def test_flags(argv, message, tmp_path, capsys):
    (tmp_path / "train.conll").write_text(SENTENCES)
    assert message in run_error("text_analysis", [*argv, "--data", str(tmp_path / "train.conll")], tmp_path, capsys)


CONLLU_ROW = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n"
FILES = [
    ("empty.conll", "", "Expected tagged sentences in empty.conll. Received: 'none'"),
    ("blank.conll", "\n \n\t\n", "Expected tagged sentences in blank.conll. Received: 'none'"),
    ("docstart.conll", "-DOCSTART- O\n\n", "Expected tagged sentences in docstart.conll"),
    ("binary.conll", bytes(range(256)) * 2, "Received: 'binary.conll, line 2: byte 0x80 is not utf-8'"),
    ("tokens_only.conll", "John\nlives\n\n", "Expected a token and a tag in column -1 on line 1"),
    ("ragged.conll", "John B-PER\nlives\n\n", "on line 2 of ragged.conll"),
    ("one.conll", "John B-PER\n\n", "Expected enough sentences in one.conll for train, validation and test parts"),
    ("short.conllu", "1\tHi\n\n", "Expected 10 tab-separated CoNLL-U columns on line 1 of short.conllu"),
    ("spaces.conllu", CONLLU_ROW.replace("\t", " "), "Received: '1 columns'"),
    ("ranges_only.conllu", "1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_\n\n", "Expected tagged sentences in ranges_only.conllu"),
]


@pytest.mark.parametrize("filename, content, message", FILES, ids=[f for f, _, _ in FILES])
def test_malformed_files(filename, content, message, tmp_path, capsys):
    path = tmp_path / filename
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert message in run_error("text_analysis", ["--data", str(path)], tmp_path, capsys)


@pytest.mark.parametrize(
    "column, message",
    [
        ("99", "Expected --tag-column to be a column number in [-10, 10) or one of ['id', 'form'"),
        ("-11", "Received: --tag-column='-11'"),
        ("lemmas", "Expected --tag-column to be a column number or one of ['id', 'form', 'lemma'"),
    ],
)
def test_conllu_tag_column_out_of_range(column, message, tmp_path, capsys):
    """A column number past the 10 CoNLL-U columns used to raise IndexError."""
    path = tmp_path / "train.conllu"
    path.write_text(CONLLU_ROW * 2 + "\n")
    assert message in run_error("text_analysis", ["--data", str(path), "--tag-column", column], tmp_path, capsys)
    library_error(conll.read_conllu, path, tag_column=column, match="--tag-column")


def test_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = run_error("text_analysis", ["--data", str(empty)], tmp_path, capsys)
    assert "Expected --data to be one of these layouts: a CoNLL-style column file" in line and "holding []" in line
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "train.conll").write_text(SENTENCES)
    (folder / "dev.conll").write_text("broken\n")
    assert "on line 1 of dev.conll" in run_error("text_analysis", ["--data", str(folder)], tmp_path, capsys)


def test_invalid_iob_with_strict_iob(tmp_path, capsys):
    path = tmp_path / "iob1.conll"
    path.write_text(SENTENCES.replace("B-PER", "I-PER"))
    line = run_error("text_analysis", ["--data", str(path), "--strict-iob"], tmp_path, capsys)
    assert (
        "Expected valid IOB2 tags in iob1.conll (leave out --strict-iob to repair them). Received: '30 I- tags" in line
    )


def test_tensorflow_datasets(tmp_path, capsys):
    with tfds.testing.mock_data(num_examples=3):
        line = run_error("text_analysis", ["--data", "mnist"], tmp_path, capsys)
        assert "Expected a 'tokens' sequence feature in mnist. Received: \"features ['image', 'label']\"" in line
        line = run_error("text_analysis", ["--data", "conll2003", "--tag-column", "lemma"], tmp_path, capsys)
        assert "Expected --tag-column to be one of ['pos', 'chunks', 'ner']. Received: --tag-column='lemma'" in line
    assert "an existing file or folder" in run_error("text_analysis", ["--data", "x/y"], tmp_path, capsys)


def test_library_functions(tmp_path):
    library_error(tagging_data.load_tagging, tmp_path / "missing.conll", match="an existing file or folder")
    library_error(tagging_data.check_sentence, ["a", "b"], ["O"], "here", match="one tag per token in here")
    library_error(conll.read_column_file, _write(tmp_path / "x.conll", "a\n"), match="a token and a tag")


def _write(path, content):
    path.write_text(content)
    return path


# --------------------------------------------------------------------------
# predict


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["tagger", "text"])


@pytest.mark.parametrize("sentence", ["", "   ", "\t\n"])
def test_predict_refuses_a_sentence_without_tokens(models, sentence, capsys):
    line = predict_error("text_analysis", models["tagger"], ["John lives here", sentence], capsys)
    assert "Expected a sentence with at least one word or symbol. Received:" in line


def test_predict_refuses_a_model_of_another_recipe(models, tmp_path, capsys):
    sidecar = '{"tag_names": ["O", "B-PER"], "scheme": "iob2", "char_length": null}'
    model = copy_model(models["text"], tmp_path, sidecar)
    line = predict_error("text_analysis", model, ["John lives in Paris"], capsys)
    assert "Expected a .keras model saved by this recipe, taking 1 input(s) of rank (2,), string" in line


@pytest.mark.parametrize(
    "sidecar, message",
    [
        (None, "Expected the tag list model.json saved beside the model. Received: 'no such file'"),
        ("not json", "Expected the .json file saved beside the model. Received:"),
        ('{"scheme": "iob2"}', "with the keys ['tag_names']"),
        ('{"tag_names": ["O", "B-PER"]}', "Expected 3 tag names in model.json. Received: ['O', 'B-PER']"),
        (
            '{"tag_names": ["O", "B-PER", "I-PER"], "char_length": 8}',
            "Expected a .keras model saved by this recipe, taking 2 input(s) of rank (2, 3), string",
        ),
    ],
)
def test_predict_refuses_a_sidecar_that_does_not_fit(models, sidecar, message, tmp_path, capsys):
    model = copy_model(models["tagger"], tmp_path, sidecar)
    assert message in predict_error("text_analysis", model, ["John lives in Paris"], capsys)


def test_predict_library(models):
    library_error(text_analysis.RECIPE.predict, models["tagger"], [], match="at least one sentence")
    (row,) = text_analysis.RECIPE.predict(models["tagger"], ["John ."])
    assert row["tagged"].startswith("John/")
