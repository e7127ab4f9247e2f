"""Bad input for the sentiment recipe: its flags, every loader layout, tensorflow-datasets, and predict."""

import pytest
import tensorflow_datasets as tfds
from test_bad_input import copy_model, library_error, predict_error, run_error, tiny_models

from recipes import sentiment
from rnn_apps.data import text

ROWS = "text,label\n" + "".join(f"text number {i},{i % 2}\n" for i in range(40))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "regression"], "argument --task: invalid choice: 'regression'"),
        (["--embedding-dropout", "1"], "argument --embedding-dropout: expected a number in [0, 1)"),
        (["--vocabulary-size", "0"], "argument --vocabulary-size: expected a positive integer"),
        (["--sequence-length", "-5"], "argument --sequence-length: expected a positive integer"),
        (["--monitor", "val_f1"], "argument --monitor: invalid choice: 'val_f1'"),
        (["--folds", "1"], "Expected folds to be an integer >= 2. Received: folds=1"),
        (["--folds", "3", "--fold", "3"], "Expected fold to be an integer in [0, 3). Received: fold=3"),
        (["--folds", "3", "--fold", "-1"], "Expected fold to be an integer in [0, 3). Received: fold=-1"),
        (["--fold", "2"], "Expected --fold to be --fold only together with --folds. Received: --fold=2"),
        (["--fold", "two"], "argument --fold: invalid int value: 'two'"),
        (["--validation-fraction", "0"], "Expected validation_fraction to be a number in (0, 1)"),
        (["--test-fraction", "0.99"], "Expected enough rows of every class to hold out a test part of 99%"),
        (["--text-column", "review"], "Expected columns 'review' and 'label' in reviews.csv"),
    ],
)
def test_flags(argv, message, tmp_path, capsys):
    (tmp_path / "reviews.csv").write_text(ROWS)
    argv = [*argv, "--data", str(tmp_path / "reviews.csv")]
    assert message in run_error("sentiment", argv, tmp_path, capsys)


# Each user-file layout the loader reads, broken in the ways files break.
FILES = [
    ("unclosed.csv", 'text,label\n"an unclosed quote,1\nfine,0\n', "Expected a well-formed .csv file"),
    ("binary.csv", bytes(range(256)) * 4, "Expected text in utf-8 (give the file's encoding with --encoding"),
    ("latin1.tsv", "text\tlabel\ncaf\xe9\t1\n".encode("latin-1"), "Received: 'latin1.tsv, line 2: byte 0xe9"),
    ("empty.csv", "", "Received: 'an empty file'"),
    ("header_only.csv", "text,label\n", "Expected at least one labelled row in header_only.csv. Received: 'none'"),
    ("no_labels.csv", "text,label\na,\nb,\n", "Expected at least one labelled row in no_labels.csv"),
    ("semicolons.csv", "text;label\na;1\n", "columns ['text;label']"),
    ("fractional.csv", "text,label\na,0.5\nb,1\n", "Expected whole-number class labels in column 'label'"),
    ("infinite.csv", "text,label\na,inf\nb,1\n", "Expected whole-number class labels in column 'label'"),
    ("one_per_class.csv", "text,label\na,pos\nb,neg\n", "Expected enough rows of every class to hold out a test"),
    ("three.csv", "text,label\n" + "".join(f"t{i},{i % 3}\n" for i in range(30)), "Expected binary labels"),
    ("notes.txt", "some text", "Expected --data to be one of these layouts: a .csv or .tsv file"),
    ("labels.all", "onlyalabel\n", "Expected labelled lines ('label text') in labels.all. Received: 'only labels"),
    ("blank.all", "\n\n", "Expected labelled lines ('label text') in blank.all. Received: 'an empty file'"),
]


@pytest.mark.parametrize("filename, content, message", FILES, ids=[f for f, _, _ in FILES])
def test_malformed_files(filename, content, message, tmp_path, capsys):
    path = tmp_path / filename
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert message in run_error("sentiment", ["--data", str(path)], tmp_path, capsys)


def test_malformed_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "(class folders [])'" in run_error("sentiment", ["--data", str(empty)], tmp_path, capsys)
    one = tmp_path / "one_class" / "pos"
    one.mkdir(parents=True)
    (one / "a.txt").write_text("good")
    line = run_error("sentiment", ["--data", str(one.parent)], tmp_path, capsys)
    assert "one_class (class folders ['pos'])" in line
    polarity = tmp_path / "polarity"
    polarity.mkdir()
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        (polarity / name).write_text("\n  \n")
    assert "Expected labelled texts in polarity" in run_error("sentiment", ["--data", str(polarity)], tmp_path, capsys)
    trec = tmp_path / "trec"
    trec.mkdir()
    (trec / "TREC.train.all").write_text("DESC\nNUM\n")
    (trec / "TREC.test.all").write_text("DESC why ?\n")
    line = run_error("sentiment", ["--data", str(trec)], tmp_path, capsys)
    assert "in TREC.train.all. Received: 'only labels, on 2 line(s)'" in line


def test_own_test_set_with_folds(tmp_path, capsys):
    root = tmp_path / "imdb"
    for part in ("train", "test"):
        for label in ("neg", "pos"):
            (root / part / label).mkdir(parents=True)
            for i in range(6):
                (root / part / label / f"{i}.txt").write_text(f"{label} review {i}")
    line = run_error("sentiment", ["--data", str(root), "--folds", "3"], tmp_path, capsys)
    assert "Expected a source without its own validation or test part for --folds. Received: 'imdb'" in line


def test_tensorflow_datasets_without_text(tmp_path, capsys):
    with tfds.testing.mock_data(num_examples=4):
        line = run_error("sentiment", ["--data", "mnist"], tmp_path, capsys)
    assert "Expected a dataset whose supervised input is text; mnist's 'image' is. Received: 'Image'" in line
    line = run_error("sentiment", ["--data", "not/a/dataset"], tmp_path, capsys)
    assert "Expected --data to be an existing file or folder. Received: --data='not/a/dataset'" in line


def test_library_loader_raises_input_error(tmp_path):
    (tmp_path / "d.csv").write_text(ROWS)
    library_error(text.load_text_classification, tmp_path / "x.csv", match="an existing file or folder")
    library_error(text.load_text_classification, tmp_path / "d.csv", folds=2, fold=2, match="fold=2")
    library_error(text.load_text_classification, tmp_path / "d.csv", validation_fraction=1.0, match=r"\(0, 1\)")
    library_error(text.load_text_classification, tmp_path / "d.csv", text_column="t", match="columns 't'")
    library_error(text.make_vectorizer, ["a b"], vocabulary_size=0, match="vocabulary_size")


# --------------------------------------------------------------------------
# predict


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_models(tmp_path_factory.mktemp("models"), ["text", "window"])


def test_predict_refuses_a_model_of_another_recipe(models, capsys):
    line = predict_error("sentiment", models["window"], ["a fine text"], capsys)
    assert "Expected a .keras model saved by this recipe, taking 1 input(s) of rank (1,), string" in line
    assert "('prices', 'float32', (None, 5, 1))" in line


@pytest.mark.parametrize(
    "sidecar, message",
    [
        ("{broken", "Expected the .json file saved beside the model. Received:"),
        ('{"task": "binary"}', "with the keys ['class_names']. Received:"),
        ('{"class_names": ["a", "b", "c"]}', "Expected 2 class names in model.json. Received: ['a', 'b', 'c']"),
    ],
)
def test_predict_refuses_a_broken_sidecar(models, sidecar, message, tmp_path, capsys):
    model = copy_model(models["text"], tmp_path, sidecar)
    assert message in predict_error("sentiment", model, ["a fine text"], capsys)


def test_predict_library(models):
    library_error(sentiment.RECIPE.predict, models["text"], [], match="Expected at least one text. Received: 'none'")
    assert sentiment.RECIPE.predict(models["text"], ["good", 3])[1]["text"] == "3"  # any value is read as its text
