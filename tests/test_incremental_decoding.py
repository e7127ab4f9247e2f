"""Incremental decoding (rnn_apps.tasks.seq2seq_decoding) against the full-prefix path it replaces."""

import functools

import keras
import numpy as np
import pytest

from rnn_apps import backend
from rnn_apps.data import parallel
from rnn_apps.layers import encoders
from rnn_apps.tasks import seq2seq, seq2seq_decoding

SOURCE_WORDS = ["the", "a", "car", "red", "small", "dog", "sees", "house", "big", "blue"]
TARGET_WORDS = [seq2seq.START, seq2seq.END, "la", "le", "voiture", "rouge", "petite", "chien", "voit", "maison"]
SOURCE_LENGTH, PREFIX_LENGTH = 7, 6  # translations of at most 5 words
SENTENCES = ["the red car", "a small dog sees the big house", "the blue car sees a dog", "dog", "the zebra !", "..."]
START_ID = 2 + TARGET_WORDS.index(seq2seq.START)
END_ID = 2 + TARGET_WORDS.index(seq2seq.END)

# Every cell and both attentions; several decoder layers (later ones start from zeros) and one-way encoders.
CONFIGS = {
    "simple_rnn": (dict(model="simple_rnn", num_layers=2), "additive"),
    "lstm": (dict(model="lstm", bidirectional=True), "dot"),
    "gru": (dict(model="gru", bidirectional=True), "additive"),
    "cnn": (dict(model="cnn", num_layers=2), "additive"),
}


def core_of(kind, seed=0):
    keras.utils.set_random_seed(seed)
    fields, attention = CONFIGS[kind]
    config = encoders.EncoderConfig(units=4, filters=8, **fields)
    sizes = (len(SOURCE_WORDS) + 2, len(TARGET_WORDS) + 2, SOURCE_LENGTH, PREFIX_LENGTH)
    return seq2seq.seq2seq(config, *sizes, embedding_dim=6, attention=attention)


def translator_of(core):
    return seq2seq.IdTranslator.build(core, SOURCE_WORDS, TARGET_WORDS, SOURCE_LENGTH, PREFIX_LENGTH)


@functools.cache
def lengthened(kind):
    """A core whose ``[end]`` is unlikely, so untrained models write to the length limit and beams reorder
    every step; with its `IdTranslator` (built once per kind: tracing dominates these tests' time)."""
    core = core_of(kind)
    logits = core.get_layer("logits")
    bias = keras.ops.convert_to_numpy(logits.bias).copy()
    bias[END_ID] -= 3.0
    logits.bias.assign(bias)
    return core, translator_of(core)


def full_prefix(core, source_ids, histories):
    """The full-prefix model's ``log_probs`` and ``attention`` after each history (one row each)."""
    model = seq2seq.id_inference_model(core, PREFIX_LENGTH)
    prefix = np.zeros((len(histories), PREFIX_LENGTH), "int32")
    for row, history in enumerate(histories):
        prefix[row, : len(history) + 1] = [START_ID, *history]
    out = model.predict_on_batch({"source_ids": source_ids, "prefix_ids": prefix})
    return keras.ops.convert_to_numpy(out["log_probs"]), keras.ops.convert_to_numpy(out["attention"])


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_every_step_scores_as_the_full_prefix(kind):
    core, _ = lengthened(kind)
    decoder = seq2seq_decoding.for_core(core, START_ID, PREFIX_LENGTH)
    expected = seq2seq_decoding.ConvolutionalDecoder if kind == "cnn" else seq2seq_decoding.RecurrentDecoder
    assert isinstance(decoder, expected)
    rng = np.random.default_rng(1)
    source_ids = rng.integers(2, len(SOURCE_WORDS) + 2, (3, SOURCE_LENGTH)).astype("int32")
    source_ids[0, 3:] = 0  # padded sources attend to their words only
    source_ids[1, 5:] = 0
    words = rng.integers(4, len(TARGET_WORDS) + 2, (3, PREFIX_LENGTH - 1)).tolist()
    cache, steps = decoder.start(source_ids), []
    for step in range(PREFIX_LENGTH):
        log_probs, cache = decoder.step(cache, [row[:step] for row in words])
        steps.append(log_probs)
    # Every prefix of every row through the full-prefix model at once: (step, row) order.
    histories = [row[:step] for step in range(PREFIX_LENGTH) for row in words]
    reference, _ = full_prefix(core, np.tile(source_ids, (PREFIX_LENGTH, 1)), histories)
    np.testing.assert_allclose(np.concatenate(steps), reference, rtol=1e-5, atol=1e-6)


def test_recurrent_step_attention_is_the_cores():
    core, _ = lengthened("gru")
    decoder = seq2seq_decoding.for_core(core, START_ID, PREFIX_LENGTH)
    source_ids = np.array([[3, 4, 5, 0, 0, 0, 0], [6, 7, 8, 9, 3, 0, 0]], "int32")
    cache = decoder.start(source_ids)
    out = decoder.step_model.predict_on_batch({"word": np.array([START_ID] * 2, "int32"), **cache})
    _, attention = full_prefix(core, source_ids, [[], []])
    np.testing.assert_allclose(np.asarray(out["attention"]), attention[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out["attention"])[0, 3:], 0.0, atol=1e-6)


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "cnn"])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_translations_are_the_full_prefix_ones(kind, beam_size):
    _, model = lengthened(kind)
    new = seq2seq.translate(model, SENTENCES, beam_size=beam_size)
    old = seq2seq.translate(model, SENTENCES, beam_size=beam_size, incremental=False)
    assert [row["translation"] for row in new] == [row["translation"] for row in old]
    assert [row["finished"] for row in new] == [row["finished"] for row in old]
    np.testing.assert_allclose([row["score"] for row in new], [row["score"] for row in old], rtol=1e-5, atol=1e-5)
    # The lengthened models write more than one word, so beams were reordered along the way.
    assert max(len(row["translation"].split()) for row in new) > 2
    assert new[-1] == {"translation": "", "score": 0.0, "finished": True}


def test_untouched_model_stops_at_end_as_before():
    model = translator_of(core_of("simple_rnn", seed=3))
    for beam_size in (1, 2):
        new = seq2seq.translate(model, SENTENCES, beam_size=beam_size, max_length=3)
        old = seq2seq.translate(model, SENTENCES, beam_size=beam_size, max_length=3, incremental=False)
        assert [row["translation"] for row in new] == [row["translation"] for row in old]


def test_decoder_is_derived_from_the_saved_model(tmp_path):
    core, translator = lengthened("gru")
    saved = translator.save(tmp_path / "gru.keras")
    loaded = seq2seq.load_translator(saved)
    decoder = seq2seq.step_decoder(loaded)
    assert isinstance(decoder, seq2seq_decoding.RecurrentDecoder)
    assert seq2seq.step_decoder(loaded) is decoder  # built once per model
    new = seq2seq.translate(loaded, SENTENCES, beam_size=2)
    old = seq2seq.translate(translator, SENTENCES, beam_size=2, incremental=False)
    assert [row["translation"] for row in new] == [row["translation"] for row in old]


@pytest.mark.skipif(not backend.strings_in_models(), reason="raw-string models need TensorFlow's string tensors")
@pytest.mark.parametrize("kind", ["lstm", "cnn"])
def test_raw_string_model_decodes_incrementally(kind):
    core, _ = lengthened(kind)
    model = seq2seq.inference_model(
        core,
        parallel.source_vectorizer(SOURCE_WORDS, SOURCE_LENGTH),
        parallel.target_vectorizer(TARGET_WORDS, PREFIX_LENGTH),
    )
    assert seq2seq.step_decoder(model) is not None
    for beam_size in (1, 3):
        new = seq2seq.translate(model, SENTENCES, beam_size=beam_size)
        old = seq2seq.translate(model, SENTENCES, beam_size=beam_size, incremental=False)
        assert [row["translation"] for row in new] == [row["translation"] for row in old]


def test_other_structures_fall_back_to_the_full_prefix():
    core, _ = lengthened("gru")
    assert seq2seq_decoding.find_core(seq2seq.id_inference_model(core, PREFIX_LENGTH)) is core
    inputs = {side: keras.Input(shape=(None,), dtype="int32", name=side) for side in ("source", "target")}
    plain = keras.layers.Embedding(20, 4)(inputs["target"])
    other = keras.Model(inputs, {"logits": keras.layers.Dense(12, name="logits")(plain)})
    assert seq2seq_decoding.for_core(other, START_ID, PREFIX_LENGTH) is None
