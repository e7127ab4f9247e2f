"""The seq2seq factories: shapes, a fit step, save/load, causality, masked attention, inference wrapper."""

import keras
import numpy as np
import pytest
from helpers import check_model

from rnn_apps import backend, errors
from rnn_apps.data import parallel
from rnn_apps.layers import encoders
from rnn_apps.tasks import seq2seq

SOURCE_VOCABULARY, TARGET_VOCABULARY, SOURCE_LENGTH, TARGET_LENGTH = 15, 12, 6, 5


def toy_batch(rows=4):
    rng = np.random.default_rng(0)
    source = rng.integers(1, SOURCE_VOCABULARY, (rows, SOURCE_LENGTH)).astype("int32")
    source[:, 4:] = 0  # right padding
    target = rng.integers(1, TARGET_VOCABULARY, (rows, TARGET_LENGTH)).astype("int32")
    labels = rng.integers(1, TARGET_VOCABULARY, (rows, TARGET_LENGTH)).astype("int32")
    return {"source": source, "target": target}, labels


def tiny(kind, **fields):
    """A toy config; RNN and CNN differ only in ``model``."""
    return encoders.EncoderConfig(model=kind, units=4, filters=8, **fields)


def build(kind, attention="additive", **fields):
    return seq2seq.seq2seq(
        tiny(kind, **fields),
        SOURCE_VOCABULARY,
        TARGET_VOCABULARY,
        SOURCE_LENGTH,
        TARGET_LENGTH,
        embedding_dim=4,
        attention=attention,
    )


@pytest.mark.parametrize(
    "kind, options",
    [
        pytest.param("simple_rnn", {}, marks=pytest.mark.slow),
        ("lstm", {"bidirectional": True, "attention": "dot"}),
        pytest.param("gru", {"num_layers": 2, "attention": "additive"}, marks=pytest.mark.slow),
        ("cnn", {"num_layers": 2}),
    ],
)
def test_factories_train_and_round_trip(kind, options, tmp_path):
    inputs, labels = toy_batch()
    core = build(kind, **options)
    model = seq2seq.training_model(core)
    check_model(
        model,
        inputs,
        labels,
        (4, TARGET_LENGTH, TARGET_VOCABULARY),
        tmp_path,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    attention = keras.ops.convert_to_numpy(core(inputs)["attention"])
    assert attention.shape == (4, TARGET_LENGTH, SOURCE_LENGTH)
    # Padded source positions get no attention; each row sums to one.
    np.testing.assert_allclose(attention[:, :, 4:], 0.0, atol=1e-6)
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind, options", [("gru", {}), ("cnn", {"num_layers": 2})])
def test_decoder_does_not_see_later_target_words(kind, options):
    core = build(kind, **options)
    inputs, _ = toy_batch(1)
    changed = {"source": inputs["source"], "target": inputs["target"].copy()}
    changed["target"][0, -1] = (changed["target"][0, -1] % (TARGET_VOCABULARY - 1)) + 1
    before = keras.ops.convert_to_numpy(core(inputs)["logits"])
    after = keras.ops.convert_to_numpy(core(changed)["logits"])
    np.testing.assert_allclose(before[:, :-1], after[:, :-1], atol=1e-5)


def test_bad_arguments_are_refused():
    with pytest.raises(errors.InputError, match="attention"):
        build("gru", attention="multiplicative")
    with pytest.raises(errors.InputError, match="model='lstmm'"):
        build("lstmm")
    with pytest.raises(errors.InputError, match="one filter count"):
        seq2seq.seq2seq(encoders.EncoderConfig("cnn", cnn_kind="fcn", filters=(4, 4), kernel_sizes=(3, 3)), 5, 7, 4, 3)


def test_names_and_sizes_follow_the_config():
    assert build("gru").name == "gru_seq2seq" and build("cnn").name == "cnn_seq2seq"
    # The recurrent decoder is as wide as the (bidirectional) encoder's output.
    assert build("lstm", bidirectional=True).get_layer("decoder_lstm_1").units == 8
    assert build("cnn", num_layers=2, kernel_size=2).get_layer("decoder_conv_2_gate").kernel.shape == (2, 8, 8)


def test_inference_model_scores_the_word_after_the_prefix(tmp_path):
    source_vocabulary = ["the", "red", "car"]
    target_vocabulary = [seq2seq.START, seq2seq.END, "la", "voiture", "rouge"]
    core = seq2seq.seq2seq(tiny("gru"), 5, 7, 4, 3, embedding_dim=4)
    model = seq2seq.inference_model(
        core,
        parallel.source_vectorizer(source_vocabulary, 4),
        parallel.target_vectorizer(target_vocabulary, 3),
    )
    out = model.predict_on_batch(
        {
            "source": np.array(["The red car.", "the car"], dtype=object),
            "prefix": np.array(["[start] la", "[start]"], dtype=object),
        }
    )
    assert out["log_probs"].shape == (2, 7)
    np.testing.assert_allclose(np.exp(out["log_probs"]).sum(-1), 1.0, atol=1e-5)
    ids = {"source": np.array([[2, 3, 4, 0]]), "target": np.array([[2, 4, 0]])}
    logits = keras.ops.convert_to_numpy(core(ids)["logits"])[0, 1]
    np.testing.assert_allclose(out["log_probs"][0], logits - np.log(np.exp(logits).sum()), atol=1e-5)
    assert seq2seq.model_limits(model) == (4, 2)
    translations = seq2seq.translate(model, ["the red car"], beam_size=2)
    assert len(translations[0]["translation"].split()) <= 2


def test_recurrent_decoder_reads_the_word_it_is_given():
    # Regression: with Keras's default embedding initializer, uniform(-0.05, 0.05), changing the word a
    # fresh decoder reads moved its state by about 0.01, so training sat at the unigram entropy on
    # Multi30k (the bi-GRU wrote "a a a ..."). Unit-scale word vectors move it by about 0.28.
    keras.utils.set_random_seed(0)
    config = encoders.EncoderConfig(model="gru", units=32, bidirectional=True)
    core = seq2seq.seq2seq(config, 50, 50, 8, 6, embedding_dim=32)
    decoder = keras.Model(core.input, core.get_layer("decoder_gru_1").output)
    rng = np.random.default_rng(0)
    source = rng.integers(1, 50, (16, 8)).astype("int32")
    target = rng.integers(1, 50, (16, 6)).astype("int32")
    changed = target.copy()
    changed[:, 2] = changed[:, 2] % 49 + 1
    before = keras.ops.convert_to_numpy(decoder({"source": source, "target": target}))
    after = keras.ops.convert_to_numpy(decoder({"source": source, "target": changed}))
    np.testing.assert_allclose(before[:, :2], after[:, :2], atol=1e-6)
    assert np.abs(before[:, 2] - after[:, 2]).mean() > 0.1


@pytest.mark.parametrize("kind", ["gru", "cnn"])
def test_id_inference_model_scores_the_word_after_the_prefix(kind, tmp_path):
    # The id model and its vocabularies stand in for the raw-string model on every backend.
    source_vocabulary = ["the", "red", "car"]
    target_vocabulary = [seq2seq.START, seq2seq.END, "la", "voiture", "rouge"]
    core = seq2seq.seq2seq(tiny(kind), 5, 7, 4, 3, embedding_dim=4)
    model = seq2seq.IdTranslator.build(core, source_vocabulary, target_vocabulary, 4, 3, name="tiny")
    batch = {"source": ["The red car.", "the car, NOT a bike"], "prefix": ["[start] la", "[start]"]}
    out = model.predict_on_batch(batch)
    assert out["log_probs"].shape == (2, 7) and out["attention"].shape == (2, 3, 4)
    np.testing.assert_allclose(np.exp(out["log_probs"]).sum(-1), 1.0, atol=1e-5)
    ids = {"source": np.array([[2, 3, 4, 0], [2, 4, 1, 1]]), "target": np.array([[2, 4, 0], [2, 0, 0]])}
    logits = keras.ops.convert_to_numpy(core(ids)["logits"])[[0, 1], [1, 0]]
    expected = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(out["log_probs"], expected, atol=1e-5)
    assert seq2seq.model_limits(model) == (4, 2)
    assert seq2seq.target_vocabulary(model) == ["", "[UNK]", *target_vocabulary]
    translations = seq2seq.translate(model, ["the red car", "the car", "@@"], beam_size=2)
    assert all(len(row["translation"].split()) <= 2 for row in translations)
    # No source word left after standardization: an empty translation, for every model.
    assert translations[2] == {"translation": "", "score": 0.0, "finished": True}

    saved = model.save(tmp_path / "tiny.keras")
    assert (tmp_path / "tiny.vocabulary.json").is_file()
    loaded = seq2seq.load_translator(saved)
    assert isinstance(loaded, seq2seq.IdTranslator) and loaded.name == "tiny"
    np.testing.assert_allclose(loaded.predict_on_batch(batch)["log_probs"], out["log_probs"], atol=1e-6)
    assert seq2seq.translate(loaded, ["the red car", "the car", "@@"], beam_size=2) == translations


def test_word_vectorizers_match_the_recipe_layers():
    # The ids the recipe trains on (TextVectorization) are the ids IdTranslator feeds the saved model.
    sources = [
        "Ein Mann läuft über die Straße.",
        "Über ALLES -- (mit) [Klammern], l'homme!",
        "  Tabs\tund\nZeilen  ",
        "Naïve «guillemets» au café, à Noël…",
        "",
        "unbekannte wörter only",
        "ein " * 12,
    ]
    source_vocabulary = ["ein", "mann", "läuft", "über", "die", "straße", "lhomme", "naïve", "café", "à", "Über"]
    layer = parallel.source_vectorizer(source_vocabulary, 8)
    words = backend.WordVectorizer(source_vocabulary, 8, standardize="lower_and_strip_punctuation")
    np.testing.assert_array_equal(words(sources), keras.ops.convert_to_numpy(layer(sources)))
    assert backend.WordVectorizer.from_layer(layer, 8).to_config() == words.to_config()

    targets = parallel.target_texts(["Un homme, deux chiens !", "L'été à Paris…", "«Bonjour», dit-il.", "Zut"])
    targets.append("[start] un homme")  # a decoding prefix
    target_vocabulary = [seq2seq.START, seq2seq.END, "un", "homme", ",", "!", "'", "été", "à", "«", "»", "-", "."]
    for length in (6, 12):
        layer = parallel.target_vectorizer(target_vocabulary, length)
        words = backend.WordVectorizer(target_vocabulary, length, standardize=None)
        np.testing.assert_array_equal(words(targets), keras.ops.convert_to_numpy(layer(targets)))
