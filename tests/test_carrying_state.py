"""The streaming study (recipes/carrying_state.py): its plain-Keras step model and timing; the docs build runs it."""

import numpy as np
import pytest

from recipes import carrying_state, sentiment
from rnn_apps import streaming


def _classifier(units=5):
    cfg = sentiment.RECIPE.parse(["--units", str(units), "--embedding-dim", "4"])
    return sentiment.build_classifier("lstm", cfg, vocabulary_size=30, num_classes=2)


def test_the_plain_keras_step_model_is_the_librarys_and_the_whole_models():
    model = _classifier()
    ids = np.random.default_rng(0).integers(2, 30, size=(1, 8)).astype("int32")
    plain = carrying_state.plain_step_model(model)
    state = [np.zeros((1, 5), "float32")] * 2
    library = streaming.Stream(model).run(ids)
    for t in range(ids.shape[1]):
        probability, *state = plain.predict_on_batch([ids[:, t : t + 1], *state])
        np.testing.assert_allclose(probability, library[t], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(probability, model.predict_on_batch(ids[:, : t + 1]), rtol=1e-5, atol=1e-7)


def test_answer_after_times_both_ways_and_they_agree():
    model = _classifier()
    row = carrying_state.answer_after(streaming.Stream(model), model, np.arange(2, 9)[None].astype("int32"), calls=2)
    assert row["length"] == 7 and row["stream_steps"]["steps"] == 6
    assert row["max_abs_difference"] < 1e-5
    for way in ("stream", "re_read"):
        assert 0 < row[way]["p50_ms"] <= row[way]["p95_ms"] and row[way]["calls"] == 2


def test_the_review_is_chosen_by_length_not_by_its_answer():
    text, label = carrying_state.first_long_review(min_words=15)
    assert len(text.split()) >= 15 and label in ("neg", "pos")


@pytest.mark.slow
def test_the_study_runs_and_writes_its_page_results(tmp_path):
    results = carrying_state.main(["--quick", "--lengths", "3,6", "--calls", "2", "--output-dir", str(tmp_path)])
    assert results["review"]["whole_prefix_max_abs_difference"] < 1e-5
    assert results["review"]["plain_keras_max_abs_difference"] < 1e-5
    assert len(results["review"]["probability"]) == len(results["review"]["words"])
    assert results["keyword"]["posteriors"] and len(results["keyword"]["seconds"]) == len(
        results["keyword"]["posteriors"]
    )
    for name in ("review.png", "keyword.png", "latency.png", "results.json", "results.md"):
        assert (tmp_path / name).exists()
