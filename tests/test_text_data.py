import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

from rnn_apps import errors
from rnn_apps.data import text


def test_csv_with_string_labels(review_csv):
    data = text.load_text_classification(review_csv, binary=True, seed=0)
    assert data.class_names == ["neg", "pos"]
    assert sum(data.sizes().values()) == 20
    texts, labels = data.train
    for t, label in zip(texts, labels):
        assert ("great" in t or "love" in t or "excellent" in t) == (label == 1)


def test_tsv_with_other_columns(tmp_path):
    path = tmp_path / "d.tsv"
    lines = ["sentence\tscore"] + [f"text number {i}\t{i % 3}" for i in range(30)]
    path.write_text("\n".join(lines))
    data = text.load_text_classification(path, text_column="sentence", label_column="score")
    assert data.class_names == ["0", "1", "2"]
    assert data.num_classes == 3


def test_polarity_files_folder_and_file(tmp_path):
    (tmp_path / "rt-polarity.pos").write_bytes("un film tr\xe8s beau\n".encode("latin-1") * 10)
    (tmp_path / "rt-polarity.neg").write_bytes(b"a dull film\n" * 10)
    by_folder = text.load_text_classification(tmp_path, binary=True)
    by_file = text.load_text_classification(tmp_path / "rt-polarity.pos", binary=True)
    assert by_folder.class_names == ["neg", "pos"]
    assert by_folder.sizes() == by_file.sizes()
    everything = np.concatenate([by_folder.train[0], by_folder.validation[0], by_folder.test[0]])
    assert "un film très beau" in set(everything)


def test_aclimdb_layout_keeps_its_test_split_and_ignores_unsup(tmp_path):
    for part, count in (("train", 10), ("test", 4)):
        for label in ("neg", "pos"):
            folder = tmp_path / part / label
            folder.mkdir(parents=True)
            for i in range(count):
                (folder / f"{i}.txt").write_text(f"{label} review {i}")
    (tmp_path / "train" / "unsup").mkdir()
    (tmp_path / "train" / "unsup" / "0.txt").write_text("no label")
    data = text.load_text_classification(tmp_path, binary=True)
    assert data.class_names == ["neg", "pos"]
    assert data.sizes() == {"train": 18, "validation": 2, "test": 8}
    assert all(t.startswith(data.class_names[y]) for t, y in zip(*data.test))


def test_tfds_imdb_reviews_offline_with_mock_data():
    with tfds.testing.mock_data(num_examples=30):
        data = text.load_text_classification("imdb_reviews", binary=True)
    assert data.name == "imdb_reviews"
    assert data.class_names == ["neg", "pos"]
    assert data.sizes()["test"] == 30
    assert data.sizes()["train"] + data.sizes()["validation"] == 30
    assert isinstance(data.train[0][0], str)


def test_unknown_tfds_name():
    with pytest.raises(errors.InputError, match="Received: --data=\"'no_such_set_xyz'"):
        text.load_text_classification("no_such_set_xyz")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "an empty file"),
        ("words,label\nhello,pos\n", r"columns \['words', 'label'\]"),
        ("text,label\n", "at least one labelled row"),
    ],
)
def test_malformed_csv(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(errors.InputError, match=message):
        text.load_text_classification(path)


def test_missing_path():
    with pytest.raises(errors.InputError, match="an existing file or folder"):
        text.load_text_classification("no/such/file.csv")


def test_non_binary_labels_where_binary_is_required(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{'abc'[i % 3]}\n" for i in range(30)))
    with pytest.raises(errors.InputError, match=r"binary labels .* Received: \"3 classes \['a', 'b', 'c'\]\""):
        text.load_text_classification(path, binary=True)


def test_fractional_labels_are_rejected(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{i / 10}\n" for i in range(10)))
    with pytest.raises(errors.InputError, match="whole-number class labels"):
        text.load_text_classification(path)


def test_vectorizer_is_fit_on_training_texts_only(review_csv):
    data = text.load_text_classification(review_csv, seed=0)
    vectorizer = text.make_vectorizer(data.train[0], vocabulary_size=100)
    train_words = {w for t in data.train[0] for w in t.replace(",", "").split()}
    assert set(vectorizer.get_vocabulary()[2:]) <= train_words


def test_token_dataset_pads_per_batch_on_the_right():
    vectorizer = text.make_vectorizer(["a b c d e", "a b"], vocabulary_size=10)
    ids = text.vectorize(vectorizer, ["a b c d e", "a b", "a"], sequence_length=4)
    batches = list(text.token_dataset(ids, [0, 1, 0], batch_size=2).as_numpy_iterator())
    first, second = batches[0][0], batches[1][0]
    assert first.shape == (2, 4)  # cut to sequence_length, padded to the longest row
    assert second.shape == (1, 1)
    assert (first[1, 2:] == 0).all() and (first[1, :2] != 0).all()


def test_bucketed_dataset_keeps_every_row():
    vectorizer = text.make_vectorizer([" ".join("w" * (i % 7 + 1)) for i in range(40)], vocabulary_size=20)
    texts = [" ".join(["w"] * (i % 9 + 1)) for i in range(50)]
    ids = text.vectorize(vectorizer, texts, sequence_length=20)
    dataset = text.token_dataset(ids, np.arange(50) % 2, batch_size=8, shuffle=True, seed=1, bucket=True)
    rows = sum(batch[0].shape[0] for batch in dataset.as_numpy_iterator())
    assert rows == 50


def test_string_model_round_trip_in_keras_file(tmp_path):
    vectorizer = text.make_vectorizer(["good movie", "bad movie", "great fun"], vocabulary_size=20)
    ids = keras.Input(shape=(None,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 3)(ids))
    core = keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(pooled))
    model = text.string_model(vectorizer, core, sequence_length=5, name="strings")
    path = tmp_path / "strings.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    inputs = np.array(["good fun", "bad", "never seen words"], dtype=object)
    np.testing.assert_allclose(model.predict_on_batch(inputs), reloaded.predict_on_batch(inputs), atol=1e-6)


def test_labelled_lines_folder_keeps_its_test_file(tmp_path):
    (tmp_path / "Q.train.all").write_bytes(
        "".join(f"{i % 3} question number {i} caf\xe9 ?\n" for i in range(30)).encode("latin-1")
    )
    (tmp_path / "Q.test.all").write_text("".join(f"{i % 3} held out {i}\n" for i in range(6)))
    data = text.load_text_classification(tmp_path, encoding="latin-1")
    assert data.class_names == ["0", "1", "2"]
    assert data.sizes() == {"train": 27, "validation": 3, "test": 6}
    assert list(data.test[1]) == [0, 1, 2, 0, 1, 2]
    assert any("café" in t for t in data.train[0])


def test_labelled_lines_file_with_only_bare_labels_is_refused(tmp_path):
    path = tmp_path / "bad.all"
    path.write_text("1\n0\n")
    with pytest.raises(errors.InputError, match="only labels, on 2 line"):
        text.load_text_classification(path)


def test_cross_validation_folds_test_every_row_once(tmp_path):
    (tmp_path / "rt-polarity.pos").write_text("".join(f"good {i}\n" for i in range(15)))
    (tmp_path / "rt-polarity.neg").write_text("".join(f"bad {i}\n" for i in range(15)))
    tested = []
    for fold in range(5):
        data = text.load_text_classification(tmp_path, folds=5, fold=fold, seed=3)
        assert data.sizes()["test"] == 6
        assert not set(data.test[0]) & set(data.train[0]) and not set(data.test[0]) & set(data.validation[0])
        tested.extend(data.test[0])
    assert sorted(tested) == sorted([f"good {i}" for i in range(15)] + [f"bad {i}" for i in range(15)])


def test_fold_out_of_range(tmp_path):
    (tmp_path / "rt-polarity.pos").write_text("a\nb\nc\n")
    (tmp_path / "rt-polarity.neg").write_text("d\ne\nf\n")
    with pytest.raises(errors.InputError, match=r"Expected fold to be an integer in \[0, 3\)"):
        text.load_text_classification(tmp_path, folds=3, fold=3)
