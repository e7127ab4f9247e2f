"""Tagged-sentence loaders, IOB handling, tokenization and the tagger factories."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import check_model

from rnn_apps import errors
from rnn_apps.data import conll, tagging_batches, tagging_data, token_vocabulary, tokenization
from rnn_apps.layers import encoders
from rnn_apps.tasks import taggers

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------
# Readers


def test_column_file_skips_docstart_and_selects_the_tag_column(tmp_path):
    path = write(tmp_path, "eng.train", CONLL)
    sentences = conll.read_column_file(path)
    assert sentences == [
        (["EU", "rejects", "German", "call", "."], ["I-ORG", "O", "I-MISC", "O", "O"]),
        (["Peter", "Blackburn"], ["I-PER", "I-PER"]),
    ]
    assert conll.read_column_file(path, tag_column="1")[1][1] == ["NNP", "NNP"]
    assert conll.read_column_file(path, tag_column=2)[0][1][:2] == ["B-NP", "B-VP"]


def test_conll2003_iob1_is_repaired_to_iob2_with_a_notice(tmp_path, capsys):
    folder = tmp_path / "conll"
    folder.mkdir()
    write(folder, "eng.train", CONLL * 5)
    write(folder, "eng.testa", CONLL)
    write(folder, "eng.testb", CONLL)
    data = tagging_data.load_tagging(folder, seed=0)
    assert data.sizes() == {"train": 10, "validation": 2, "test": 2}
    assert data.scheme == "iob2"
    assert data.test[0][1] == ["B-ORG", "O", "B-MISC", "O", "O"] and data.test[1][1] == ["B-PER", "I-PER"]
    assert data.tag_names == ["O", "B-MISC", "B-ORG", "B-PER", "I-PER"]  # the tags that occur, by type
    assert "notice: repaired" in capsys.readouterr().err
    with pytest.raises(errors.InputError, match="valid IOB2 tags"):
        tagging_data.load_tagging(folder, strict_iob=True)


def test_wikiann_prefix_is_stripped(tmp_path):
    folder = tmp_path / "wikiann_en"
    folder.mkdir()
    sentence = "en:Atlantic\tB-LOC\nen:City\tI-LOC\nen:(\tO\nen:born\tO\nen:1968\tO\nen:)\tO\n\n"
    for name in ("train", "dev", "test"):
        write(folder, name, sentence * 3)
    data = tagging_data.load_tagging(folder)
    assert data.sizes() == {"train": 3, "validation": 3, "test": 3}
    assert data.train[0] == (["Atlantic", "City", "(", "born", "1968", ")"], ["B-LOC", "I-LOC", "O", "O", "O", "O"])


def test_a_prefix_is_kept_unless_every_token_has_it(tmp_path):
    path = write(tmp_path, "mixed.txt", "en:Paris B-LOC\nParis B-LOC\n\n")
    assert conll.read_column_file(path)[0][0] == ["en:Paris", "Paris"]


def test_conllu_reads_universal_pos_and_skips_ranges_and_empty_nodes(tmp_path):
    text = (
        "# sent_id = 1\n"
        "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tdo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_\n"
        "2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_\n"
        "2.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t_\t_\n"
        "3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_\n\n"
    )
    path = write(tmp_path, "en.conllu", text)
    assert conll.read_conllu(path) == [(["do", "n't", "go"], ["AUX", "PART", "VERB"])]
    assert conll.read_conllu(path, "xpos")[0][1] == ["VBP", "RB", "VB"]
    with pytest.raises(errors.InputError, match="10 tab-separated CoNLL-U columns on line 1 of bad.conllu"):
        conll.read_conllu(write(tmp_path, "bad.conllu", "1\tdo\tAUX\n"))


def test_single_file_is_split_with_the_seed(tmp_path):
    path = write(tmp_path, "all.txt", "".join(f"w{i} O\nx B-PER\n\n" for i in range(50)))
    first = tagging_data.load_tagging(path, seed=3)
    again = tagging_data.load_tagging(path, seed=3)
    assert first.sizes() == {"train": 41, "validation": 4, "test": 5}
    assert first.test == again.test and first.test != tagging_data.load_tagging(path, seed=4).test


def test_plain_tags_keep_their_names(tmp_path):
    path = write(tmp_path, "pos.txt", "The DET\ncat NOUN\n\n" * 10)
    data = tagging_data.load_tagging(path)
    assert data.scheme == "plain" and data.tag_names == ["DET", "NOUN"]


def test_folder_without_a_train_file(tmp_path):
    write(tmp_path, "notes.txt", "a O\n")
    with pytest.raises(errors.InputError, match="a folder of such files whose names hold train"):
        tagging_data.load_tagging(tmp_path)


# --------------------------------------------------------------------------
# tensorflow-datasets, offline with mock data


def test_tfds_conll2003_with_mock_data(capsys):
    import tensorflow_datasets as tfds

    rows = [
        {"tokens": [b"EU", b"rejects", b"German", b"call"], "ner": [3, 0, 7, 0], "pos": [0] * 4, "chunks": [0] * 4},
        {"tokens": [b"Peter", b"Blackburn"], "ner": [1, 2], "pos": [0, 0], "chunks": [0, 0]},
        {"tokens": [], "ner": [], "pos": [], "chunks": []},
    ]

    def as_dataset(self, split, *args, **kwargs):
        return _rows_dataset(rows * 4)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = tagging_data.load_tagging("conll2003")
    assert data.name == "conll2003" and data.scheme == "iob2"
    assert data.train[0] == (["EU", "rejects", "German", "call"], ["B-ORG", "O", "B-MISC", "O"])
    assert set(data.tag_names) == {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}
    assert "dropped 12 empty sentence(s)" in capsys.readouterr().err


def _rows_dataset(rows):
    import tensorflow as tf

    def generate():
        for row in rows:
            yield {key: np.array(value, dtype=object if key == "tokens" else np.int64) for key, value in row.items()}

    signature = {
        "tokens": tf.TensorSpec([None], tf.string),
        "ner": tf.TensorSpec([None], tf.int64),
        "pos": tf.TensorSpec([None], tf.int64),
        "chunks": tf.TensorSpec([None], tf.int64),
    }
    return tf.data.Dataset.from_generator(generate, output_signature=signature)


def test_tfds_tag_sequence_of_another_length_is_refused():
    """The default mock examples have as many random tags as they like: refused, naming the example."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=3):
        with pytest.raises(errors.InputError, match=r"one tag per token in conll2003 train example 1"):
            tagging_data.load_tagging("conll2003", tag_column="pos")


def test_tfds_unknown_tag_feature():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=2):
        with pytest.raises(errors.InputError, match=r"Expected --tag-column to be one of \['pos', 'chunks', 'ner'\]"):
            tagging_data.load_tagging("conll2003", tag_column="lemma")


def test_unknown_tfds_name():
    with pytest.raises(errors.InputError, match="tensorflow-datasets name"):
        tagging_data.load_tagging("no_such_tagging_set_xyz")


# --------------------------------------------------------------------------
# Tokens, vocabularies, batches


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("Angela Merkel visited Paris.", ["Angela", "Merkel", "visited", "Paris", "."]),
        ("  ", []),
        ("", []),
        ("New York-based firm, est. 1998", ["New", "York-based", "firm", ",", "est", ".", "1998"]),
        ("Émile Zola lived in Paris", ["Émile", "Zola", "lived", "in", "Paris"]),
    ],
)
def test_tokenize(text, tokens):
    assert tokenization.tokenize(text) == tokens


def test_encode_matches_the_string_lookup_of_the_saved_model():
    words, chars = ["Paris", "the"], ["a", "P", "r"]
    sentences = [["Paris", "is", "the"], ["Rome"]]
    word_ids, char_ids = token_vocabulary.encode(sentences, (words, chars), char_length=4)
    inputs = tokenization.model_inputs(sentences, char_length=4)
    lookup = keras.layers.StringLookup(vocabulary=words, mask_token="")
    char_lookup = keras.layers.StringLookup(vocabulary=chars, mask_token="")
    looked_up = keras.ops.convert_to_numpy(lookup(inputs["tokens"]))
    looked_up_chars = keras.ops.convert_to_numpy(char_lookup(inputs["characters"]))
    for row, (ids, cids) in enumerate(zip(word_ids, char_ids)):
        np.testing.assert_array_equal(looked_up[row, : len(ids)], ids)
        np.testing.assert_array_equal(looked_up_chars[row, : len(ids)], cids)
    assert looked_up[1, 1:].tolist() == [0, 0]


def test_batches_weight_padding_zero_and_crf_batches_pad_tags_with_minus_one():
    word_ids = [np.array([2, 3, 4], "int32"), np.array([5], "int32")]
    tag_ids = [np.array([1, 2, 0], "int32"), np.array([1], "int32")]
    inputs, tags, weights = next(iter(tagging_batches.tagging_dataset(word_ids, tag_ids, batch_size=2)))
    assert inputs["token_ids"].numpy().tolist() == [[2, 3, 4], [5, 0, 0]]
    assert weights.numpy().tolist() == [[1, 1, 1], [1, 0, 0]]
    batch = next(iter(tagging_batches.tagging_dataset(word_ids, tag_ids, 2, label_padding=-1, weights=False)))
    assert len(batch) == 2 and batch[1].numpy().tolist() == [[1, 2, 0], [1, -1, -1]]


@pytest.mark.parametrize("model", ["gru", "cnn"])
def test_the_loss_is_an_average_over_real_tokens(model):
    """Padding a batch with a long sentence leaves the short sentence's loss as it was."""
    config = encoders.EncoderConfig(model, units=3, filters=3, num_layers=1)
    tagger = taggers.compile_tagger(taggers.tagger(config, 3, vocabulary_size=9, embedding_dim=2))
    short = [np.array([2, 3], "int32")]
    tags = [np.array([1, 2], "int32")]
    alone = tagger.evaluate(tagging_batches.tagging_dataset(short, tags, 1), verbose=0, return_dict=True)
    wide = tagging_batches.tagging_dataset(short, tags, 1).map(
        lambda x, y, w: (
            {"token_ids": tf.pad(x["token_ids"], [[0, 0], [0, 30]])},
            tf.pad(y, [[0, 0], [0, 30]]),
            tf.pad(w, [[0, 0], [0, 30]]),
        )
    )
    padded = tagger.evaluate(wide, verbose=0, return_dict=True)
    assert padded["loss"] == pytest.approx(alone["loss"], rel=1e-5)
    assert padded["accuracy"] == pytest.approx(alone["accuracy"])


def test_bucketed_batches_keep_every_sentence_once():
    rng = np.random.default_rng(0)
    word_ids = [rng.integers(1, 9, size=rng.integers(1, 30)).astype("int32") for _ in range(100)]
    char_ids = [np.ones((len(ids), 5), "int32") for ids in word_ids]
    dataset = tagging_batches.tagging_dataset(word_ids, word_ids, 16, char_ids=char_ids, shuffle=True, seed=1)
    seen = 0
    for inputs, tags, weights in dataset:
        assert inputs["char_ids"].shape[-1] == 5
        np.testing.assert_array_equal(inputs["token_ids"].numpy(), tags.numpy())
        seen += int(weights.numpy().sum())
    assert seen == sum(len(ids) for ids in word_ids)


# --------------------------------------------------------------------------
# Factories


@pytest.mark.parametrize(
    "config, chars, crf",
    [
        (encoders.EncoderConfig("lstm", units=4, bidirectional=True), False, False),
        (encoders.EncoderConfig("simple_rnn", units=3, num_layers=2), True, False),
        (encoders.EncoderConfig("cnn", cnn_kind="dilated", filters=6, num_layers=2), True, False),
        (encoders.EncoderConfig("gru", units=4, bidirectional=True), True, True),
    ],
)
def test_tagger_factory(config, chars, crf, tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, size=(4, 6)).astype("int32")
    ids[0, 4:] = 0
    inputs = {"token_ids": ids}
    if chars:
        inputs["char_ids"] = rng.integers(0, 9, size=(4, 6, 5)).astype("int32")
    model = taggers.tagger(
        config,
        num_tags=5,
        vocabulary_size=20,
        embedding_dim=4,
        char_vocabulary_size=9 if chars else None,
        char_length=5,
        char_filters=3,
        crf=crf,
    )
    targets = rng.integers(0, 5, size=(4, 6))
    loss = "sparse_categorical_crossentropy"
    if crf:
        # The CRF loss is a bound method, which a saved compile config
        # cannot hold, so the shared check fits the emission scores with a
        # stand-in loss; tests/test_text_analysis_crf.py trains the real one.
        targets, loss = keras.ops.one_hot(targets, 5), "mse"
    check_model(model, inputs, targets, (4, 6, 5), tmp_path, loss=loss)


def test_string_tagger_takes_tokens(tmp_path):
    core = taggers.tagger(encoders.EncoderConfig("cnn", filters=4, num_layers=1), 3, vocabulary_size=4, embedding_dim=2)
    model = taggers.string_tagger(core, ["Paris", "Rome"])
    out = keras.ops.convert_to_numpy(model.predict_on_batch(tokenization.model_inputs([["Paris", "x"], ["Rome"]])))
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


def test_most_frequent_tag_baseline():
    baseline = taggers.MostFrequentTag(
        [(["Paris", "Paris", "x", "y"], ["B-LOC", "B-LOC", "O", "O"]), (["Paris", "z"], ["B-ORG", "O"])]
    )
    assert baseline.predict([["Paris", "unseen"]]) == [["B-LOC", "O"]]
