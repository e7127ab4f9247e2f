"""Property-based tests (hypothesis) of the pure helpers: tokenization, windows, splits, padding, decoding.

Stratified splits (tests/test_splits.py) and the leak-freedom of the stocks
pipeline (tests/test_stocks_leaks.py) have property tests of their own; the
properties here are the others: what each helper promises for every input,
not for a few hand-picked ones.
"""

import re
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rnn_apps import errors
from rnn_apps.data import audio, iob, parallel, splits, text, time_splits, tokenization, uea, video, windows
from rnn_apps.layers import ctc
from rnn_apps.tasks import seq2seq

FAST = settings(max_examples=60, deadline=None, derandomize=True)
SLOW = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------
# Tokenization

TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@FAST
@given(TEXTS)
def test_tokenize_keeps_every_non_space_character_in_order(sentence):
    tokens = tokenization.tokenize(sentence)
    assert "".join(tokens) == re.sub(r"\s", "", sentence)
    assert all(token and not re.search(r"\s", token) for token in tokens)


@FAST
@given(TEXTS)
def test_tokenize_is_stable_on_its_own_output(sentence):
    """Joining tokens with spaces and tokenizing again gives the same tokens (what predict relies on)."""
    tokens = tokenization.tokenize(sentence)
    assert tokenization.tokenize(" ".join(tokens)) == tokens


@FAST
@given(TEXTS)
def test_translation_tokenize_is_idempotent_and_lower_case(sentence):
    once = parallel.tokenize(sentence)
    assert parallel.tokenize(once) == once
    assert once == once.lower() and "  " not in once and once == once.strip()


@FAST
@given(TEXTS)
def test_source_words_count_what_the_vectorizer_sees(sentence):
    words = parallel._source_words(sentence)
    assert parallel.source_length_of(sentence) == len(words)
    assert all(word == word.lower() and not re.search(r"\s", word) for word in words)


@FAST
@given(st.text(max_size=20), st.integers(1, 12))
def test_characters_pad_or_cut_to_the_length(token, length):
    chars = tokenization.characters(token, length)
    assert len(chars) == length and "".join(chars) == token[:length]


@FAST
@given(st.text(max_size=30))
def test_lower_ascii_only_touches_capital_a_to_z(token):
    lowered = tokenization.lower_ascii(token)
    assert len(lowered) == len(token) and tokenization.lower_ascii(lowered) == lowered
    for before, after in zip(token, lowered):
        assert after == (before.lower() if "A" <= before <= "Z" else before)


# --------------------------------------------------------------------------
# IOB tags

TAGS = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), max_size=15)


@FAST
@given(TAGS)
def test_repair_iob_gives_valid_iob2_and_is_idempotent(tags):
    repaired, count = iob.repair_iob(tags)
    assert len(repaired) == len(tags)
    assert count == sum(a != b for a, b in zip(tags, repaired))
    previous = "O"
    for before, after in zip(tags, repaired):
        assert after[2:] == before[2:]  # the entity type never changes
        if after.startswith("I-"):
            assert previous[2:] == after[2:]
        previous = after
    assert iob.repair_iob(repaired) == (repaired, 0)


@FAST
@given(TAGS)
def test_entity_spans_are_ordered_disjoint_and_match_the_tags(tags):
    tags, _ = iob.repair_iob(tags)
    tokens = [f"w{i}" for i in range(len(tags))]
    spans = iob.entity_spans(tokens, tags)
    end = 0
    for kind, start, stop, words in spans:
        assert end <= start < stop <= len(tags)
        assert tags[start] == f"B-{kind}" and all(tag == f"I-{kind}" for tag in tags[start + 1 : stop])
        assert words == " ".join(tokens[start:stop])
        end = stop
    assert len(spans) == sum(tag.startswith("B-") for tag in tags)


# --------------------------------------------------------------------------
# Padding and bucketing

SENTENCES = st.lists(
    st.lists(st.text("abcXYZ.-", min_size=1, max_size=6), min_size=1, max_size=8), min_size=1, max_size=6
)


@FAST
@given(SENTENCES, st.one_of(st.none(), st.integers(1, 5)))
def test_model_inputs_pad_then_unpad_is_the_identity(token_lists, char_length):
    inputs = tokenization.model_inputs(token_lists, char_length)
    tokens = inputs["tokens"]
    assert tokens.shape == (len(token_lists), max(map(len, token_lists)))
    for row, sentence in zip(tokens, token_lists):
        assert list(row[: len(sentence)]) == sentence and all(value == "" for value in row[len(sentence) :])
    if char_length:
        assert inputs["characters"].shape == (*tokens.shape, char_length)
        for row, sentence in zip(inputs["characters"], token_lists):
            assert ["".join(chars) for chars in row[: len(sentence)]] == [t[:char_length] for t in sentence]


SERIES = st.lists(st.tuples(st.integers(1, 9), st.integers(0, 2**16)), min_size=1, max_size=6).map(
    lambda specs: [np.random.default_rng(seed).normal(size=(length, 3)).astype("float32") for length, seed in specs]
)


@FAST
@given(SERIES, st.floats(-5, 5, allow_nan=False), st.integers(0, 4))
def test_pad_series_then_unpad_is_the_identity(rows, pad_value, extra):
    longest = max(len(s) for s in rows)
    padded = uea.pad_series(rows, pad_value=pad_value, length=longest + extra)
    assert padded.shape == (len(rows), longest + extra, 3) and padded.dtype == np.float32
    for row, original in zip(padded, rows):
        np.testing.assert_array_equal(row[: len(original)], original)
        assert np.all(row[len(original) :] == np.float32(pad_value))


@FAST
@given(st.lists(st.integers(1, 50), min_size=1, max_size=6), st.integers(0, 5))
def test_pad_clips_then_unpad_is_the_identity(lengths, extra):
    clips = [np.linspace(-1, 1, n, dtype="float32") for n in lengths]
    padded = audio.pad_clips(clips, max(lengths) + extra)
    assert padded.shape == (len(clips), max(lengths) + extra)
    for row, clip in zip(padded, clips):
        np.testing.assert_array_equal(row[: len(clip)], clip)
        assert not row[len(clip) :].any()


@FAST
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60), st.integers(2, 8))
def test_bucket_boundaries_increase_and_lie_within_the_lengths(lengths, buckets):
    boundaries = text.bucket_boundaries(lengths, num_buckets=buckets)
    assert boundaries == sorted(set(boundaries)) and len(boundaries) <= buckets - 1
    assert all(min(lengths) < b <= max(lengths) + 1 for b in boundaries)


@SLOW
@given(st.lists(st.integers(1, 12), min_size=1, max_size=20), st.integers(1, 5), st.booleans())
def test_token_dataset_keeps_every_row_once_padded_with_zeros(lengths, batch_size, bucket):
    import tensorflow as tf

    rows = [list(range(1 + i, 1 + i + n)) for i, n in enumerate(lengths)]
    labels = np.arange(len(rows)) % 2
    dataset = text.token_dataset(tf.ragged.constant(rows), labels, batch_size, bucket=bucket)
    seen = []
    for ids, batch_labels in dataset.as_numpy_iterator():
        assert len(ids) <= batch_size
        for row, label in zip(ids, batch_labels):
            kept = [int(v) for v in row if v != 0]  # ids start at 1, so 0 is only padding
            assert list(row[: len(kept)]) == kept and not row[len(kept) :].any()
            seen.append((tuple(kept), int(label)))
    assert sorted(seen) == sorted((tuple(row), int(label)) for row, label in zip(rows, labels))


# --------------------------------------------------------------------------
# Splits


@FAST
@given(
    counts=st.lists(st.integers(6, 30), min_size=2, max_size=4),
    folds=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_cross_validation_tests_every_row_exactly_once(counts, folds, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    tested = []
    for fold in range(folds):
        parts = splits.cross_validation_split(labels, folds, fold, 0.2, seed)
        joined = np.concatenate([parts.train, parts.validation, parts.test])
        assert sorted(joined.tolist()) == list(range(len(labels)))
        tested += parts.test.tolist()
    assert sorted(tested) == list(range(len(labels)))


@FAST
@given(
    groups=st.integers(8, 30),
    per_group=st.integers(1, 4),
    test=st.sampled_from([0.0, 0.2, 0.25]),
    seed=st.integers(0, 2**16),
)
def test_grouped_split_never_puts_one_source_on_two_sides(groups, per_group, test, seed):
    group_ids = np.repeat(np.arange(groups), per_group)
    labels = np.arange(len(group_ids)) % 2
    try:
        parts = video.grouped_split(labels, group_ids, 0.25, test, seed)
    except errors.InputError as error:  # too few sources or clips of a class for the folds: refused, clearly
        assert "Expected at least" in str(error)
        assume(False)
    joined = np.concatenate([parts.train, parts.validation, parts.test])
    assert sorted(joined.tolist()) == list(range(len(labels)))
    sides = [set(group_ids[part]) for part in (parts.train, parts.validation, parts.test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])


@FAST
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=2, max_size=30), st.integers(0, 99))
def test_parallel_split_keeps_each_source_sentence_on_one_side(sources, seed):
    assume(len(set(sources)) >= 2)
    targets = [s.upper() for s in sources]
    keep, held = parallel._split_on_sources(sources, targets, 0.3, seed)
    assert not set(keep[0]) & set(held[0])
    assert sorted(keep[0] + held[0]) == sorted(sources) and held[0]
    assert all(t == s.upper() for side in (keep, held) for s, t in zip(*side))


# --------------------------------------------------------------------------
# Windows (stocks)


@FAST
@given(
    start=st.integers(0, 50),
    size=st.integers(1, 60),
    window=st.integers(1, 12),
    horizon=st.integers(1, 6),
    history=st.sampled_from(windows.HISTORY),
    steps=st.sampled_from(windows.STEPS),
)
def test_windows_stay_in_their_part_and_targets_come_after_inputs(start, size, window, horizon, history, steps):
    part = range(start, start + size)
    origins = windows.window_origins(part, window, horizon, history, steps)
    first_target = 1 if steps == "all" else horizon
    for origin in origins:
        inputs = range(origin - window + 1, origin + 1)
        targets = range(origin + first_target, origin + horizon + 1)
        assert inputs.start >= 0 and all(row in part for row in targets)
        assert max(inputs) < min(targets)  # every target is after its inputs
        if history == "part":
            assert all(row in part for row in inputs)
        else:
            assert max(inputs) < part.stop  # never a row after the part
    # And no window that satisfies all of that is missed.
    wanted = [
        t
        for t in range(part.stop)
        if t >= window - 1
        and t + first_target >= part.start
        and t + horizon < part.stop
        and (history == "past" or t - window + 1 >= part.start)
    ]
    assert origins.tolist() == wanted


@FAST
@given(
    rows=st.integers(10, 400),
    validation=st.floats(0.05, 0.3),
    test=st.floats(0.05, 0.3),
    gap=st.integers(0, 5),
)
def test_chronological_split_is_ordered_with_gaps(rows, validation, test, gap):
    try:
        split = time_splits.chronological_split(rows, validation, test, gap)
    except errors.InputError:
        assume(False)
    assert split.train.start == 0 and split.test.stop == rows
    assert split.validation.start - split.train.stop == gap and split.test.start - split.validation.stop == gap
    assert len(split.train) and len(split.validation) and len(split.test)


@FAST
@given(rows=st.integers(20, 400), folds=st.integers(1, 5), gap=st.integers(0, 4))
def test_walk_forward_folds_move_forward_without_overlap(rows, folds, gap):
    try:
        folds_ = time_splits.walk_forward_splits(rows, folds, 0.3, 0.1, gap)
    except errors.InputError:
        assume(False)
    assert folds_[-1].test.stop == rows
    for earlier, later in zip(folds_, folds_[1:]):
        assert earlier.test.stop == later.test.start and len(later.train) > len(earlier.train)
    for split in folds_:
        assert split.train.stop + gap == split.validation.start and split.validation.stop + gap == split.test.start


@FAST
@given(available=st.integers(1, 60), frames=st.integers(1, 20), stride=st.integers(1, 4))
def test_sample_indices_are_evenly_spaced_and_in_range(available, frames, stride):
    try:
        indices = video.sample_indices(available, frames, stride)
    except errors.InputError:
        assert (frames - 1) * stride + 1 > available
        padded = video.sample_indices(available, frames, stride, short_clips="pad")
        assert len(padded) == frames and padded.max() == available - 1 and np.all(np.diff(padded) >= 0)
        return
    assert len(indices) == frames and 0 <= indices.min() and indices.max() < available
    assert np.all(np.diff(indices) == stride)


# --------------------------------------------------------------------------
# Decoding


def collapse(path):
    """The CTC reading of a frame path: merge repeats, drop blanks (0), shift ids to 0-based."""
    out, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != 0:
            out.append(symbol - 1)
        previous = symbol
    return out


@SLOW
@given(
    paths=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=12), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_ctc_greedy_decode_reads_the_best_path_and_ignores_padding(paths, seed):
    time = max(map(len, paths)) + 2
    rng = np.random.default_rng(seed)
    probabilities = rng.uniform(0, 0.1, (len(paths), time, 4))
    for row, path in enumerate(paths):
        probabilities[row, np.arange(len(path)), path] = 0.9
        probabilities[row, len(path) :, 1] = 0.95  # padding frames that would read as symbol 0
    decoded = ctc.decode(probabilities, [len(p) for p in paths])
    assert decoded == [collapse(path) for path in paths]


@FAST
@given(st.lists(st.lists(st.integers(0, 9), max_size=6), min_size=1, max_size=5), st.integers(0, 4))
def test_pack_targets_round_trip(transcripts, spare):
    frames = [len(t) + spare for t in transcripts]
    packed = ctc.pack_targets(transcripts, frames)
    for row, symbols, count in zip(packed, transcripts, frames):
        assert row[0] == count and row[1] == len(symbols)
        assert (row[2 : 2 + row[1]] - 1).tolist() == symbols and not row[2 + row[1] :].any()


class FakeLayer:
    def __init__(self, config=None, vocabulary=None):
        self.config, self.vocabulary = config or {}, vocabulary

    def get_config(self):
        return self.config

    def get_vocabulary(self):
        return self.vocabulary


class FakeTranslator:
    """Next-word log-probabilities fixed by a hash of (source, prefix): a deterministic toy decoder."""

    def __init__(self, words, limit, seed):
        self.vocabulary = ["", "[UNK]", seq2seq.START, seq2seq.END, *words]
        self.layers = {
            "source_vectorizer": FakeLayer({"output_sequence_length": 8}),
            "target_vectorizer": FakeLayer({"output_sequence_length": limit + 1}, self.vocabulary),
        }
        self.seed = seed

    def get_layer(self, name):
        return self.layers[name]

    def predict_on_batch(self, inputs):
        rows = []
        for source, prefix in zip(inputs["source"], inputs["prefix"]):
            key = zlib.crc32(f"{self.seed}|{source}|{prefix}".encode())
            logits = np.random.default_rng(key).normal(0, 2, len(self.vocabulary))
            rows.append(logits - np.log(np.exp(logits).sum()))
        return {"log_probs": np.array(rows)}


@SLOW
@given(words=st.integers(1, 6), limit=st.integers(1, 6), seed=st.integers(0, 2**16), sentences=st.integers(1, 3))
def test_beam_of_size_one_is_greedy_and_wider_beams_stay_in_bounds(words, limit, seed, sentences):
    model = FakeTranslator([f"w{i}" for i in range(words)], limit, seed)
    source = [f"sentence {i}" for i in range(sentences)]
    greedy = seq2seq.translate(model, source, beam_size=1)
    vocabulary = model.vocabulary
    end, banned = vocabulary.index(seq2seq.END), [0, vocabulary.index(seq2seq.START)]
    one_beam = seq2seq._beam(model, source, vocabulary, end, banned, limit, 1, 0.6)
    assert [g["translation"] for g in greedy] == [b["translation"] for b in one_beam]
    np.testing.assert_allclose([g["score"] for g in greedy], [b["score"] for b in one_beam], rtol=1e-9)
    for beam_size in (1, 3):
        for row in seq2seq.translate(model, source, beam_size=beam_size):
            tokens = row["translation"].split()
            assert len(tokens) <= limit and set(tokens) <= {"[UNK]", *vocabulary[4:]}
            assert row["finished"] or len(tokens) == limit
            assert row["score"] <= 0


def test_decode_refuses_an_unknown_strategy():
    with pytest.raises(errors.InputError, match="strategy"):
        ctc.decode(np.ones((1, 2, 3)) / 3, [2], "viterbi")
