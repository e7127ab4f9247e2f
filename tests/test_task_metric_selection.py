"""Selection on the task's own metric (entity F1, MCC) and class weights for rare tags."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from seqeval import metrics as seq_metrics
from test_bad_input import run_error

from recipes import stocks, text_analysis
from rnn_apps.data import tagging_batches
from rnn_apps.harness import selection, training
from rnn_apps.harness import tuning as tuning_module
from rnn_apps.layers import crf

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
# Two sentences as word ids (0 is padding) with their gold tags.
SENTENCES = [([2, 3, 4, 5], ["B-PER", "I-PER", "O", "B-LOC"]), ([6, 4], ["B-LOC", "O"])]
# What the lookup tagger predicts for each word id: right but for word 5 (missed) and word 6 (wrong type).
PREDICTED = {0: "O", 1: "O", 2: "B-PER", 3: "I-PER", 4: "O", 5: "O", 6: "B-PER"}


def kept_epoch(log: pd.DataFrame, monitor: str, mode: str) -> int:
    """The epoch early stopping keeps by ``monitor`` in a run's CSV log: the best, ties broken by validation loss."""
    return training.best_epoch(log[monitor].tolist(), mode, log["val_loss"].tolist())


def lookup_tagger(with_crf: bool) -> keras.Model:
    """A tagger whose scores are a fixed lookup of each word id: it predicts `PREDICTED`."""
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    lookup = keras.layers.Embedding(len(PREDICTED), len(TAGS), name="lookup")
    scores = lookup(token_ids)
    outputs = crf.CRF(len(TAGS), name="crf")(scores) if with_crf else keras.layers.Softmax()(scores)
    model = keras.Model({"token_ids": token_ids}, outputs)
    lookup.set_weights([5.0 * np.eye(len(TAGS))[[TAGS.index(PREDICTED[i]) for i in range(len(PREDICTED))]]])
    if with_crf:  # no transition scores: the Viterbi path is each token's best tag
        for weight in model.get_layer("crf").weights:
            weight.assign(np.zeros(weight.shape))
    return model


def validation_batches(batch_size=2):
    word_ids = [np.array(ids, "int32") for ids, _ in SENTENCES]
    tag_ids = [np.array([TAGS.index(tag) for tag in tags], "int32") for _, tags in SENTENCES]
    return tagging_batches.tagging_dataset(word_ids, tag_ids, batch_size, weights=False)


@pytest.mark.parametrize("with_crf", [False, True], ids=["softmax", "crf"])
def test_the_callback_writes_seqeval_entity_f1_into_the_epoch_logs(with_crf):
    model = lookup_tagger(with_crf)
    callback = selection.ValidationScore(selection.tagging_score(validation_batches(), TAGS, "iob2"))
    callback.set_model(model)
    logs = {"val_loss": 1.0}
    callback.on_epoch_end(0, logs)
    gold = [tags for _, tags in SENTENCES]
    predicted = [[PREDICTED[i] for i in ids] for ids, _ in SENTENCES]
    # Gold entities: PER and LOC in the first sentence, LOC in the second; predicted: PER twice, one right.
    assert logs["val_entity_f1"] == pytest.approx(seq_metrics.f1_score(gold, predicted)) == pytest.approx(0.4)
    assert logs["val_entity_precision"] == pytest.approx(0.5)
    assert logs["val_entity_recall"] == pytest.approx(1 / 3)
    assert logs["val_token_accuracy"] == pytest.approx(4 / 6)
    assert logs["val_loss"] == 1.0


def test_plain_tags_score_token_accuracy_and_macro_f1():
    score = selection.tagging_score(validation_batches(batch_size=1), TAGS, "plain")(lookup_tagger(False))
    assert set(score) == {"token_accuracy", "macro_f1"}
    assert score["token_accuracy"] == pytest.approx(4 / 6)


def _regression_fit(tmp_path, monitor, scripted, seen):
    training.set_seed(0)
    x = np.linspace(-1, 1, 64, dtype="float32").reshape(-1, 1)
    data = tf.data.Dataset.from_tensor_slices((x, 3 * x)).batch(16)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")

    def score(trained):
        seen.append(trained.get_weights())
        return {"score": scripted[len(seen) - 1]}

    fitted = training.fit(
        model, data, data, name="dense", epochs=len(scripted), output_dir=tmp_path, patience=2, monitor=monitor,
        verbose=0, scores=[selection.ValidationScore(score)],
    )  # fmt: skip
    return model, fitted


def test_early_stopping_and_the_kept_weights_follow_the_score_not_the_loss(tmp_path):
    # The loss improves every epoch; the scripted score peaks at epoch 2.
    scripted = [0.2, 0.9, 0.5, 0.4, 0.3, 0.2]
    seen = []
    model, fitted = _regression_fit(tmp_path / "score", "val_score", scripted, seen)
    assert np.all(np.diff(fitted.history["val_loss"]) < 0)
    assert fitted.history["val_score"] == scripted[:4]  # stopped after 2 epochs without a better score
    assert (fitted.epochs_run, fitted.best_epoch) == (4, 2)
    for kept, at_best in zip(model.get_weights(), seen[1]):
        np.testing.assert_array_equal(kept, at_best)
    saved = keras.models.load_model(tmp_path / "score" / "checkpoints" / "dense.keras")
    np.testing.assert_array_equal(saved.get_weights()[0], seen[1][0])
    assert pd.read_csv(tmp_path / "score" / "logs" / "dense.csv")["val_score"].tolist() == scripted[:4]
    # On the loss, the same run goes on to the last epoch and keeps it.
    _, on_loss = _regression_fit(tmp_path / "loss", "val_loss", scripted, [])
    assert (on_loss.epochs_run, on_loss.best_epoch) == (len(scripted), len(scripted))


def test_class_weights_are_as_documented():
    labels = np.array([0] * 6 + [1] * 3 + [3])  # tag 2 never seen
    balanced = selection.class_weights(labels, 4, "balanced")
    np.testing.assert_allclose(balanced, [10 / (3 * 6), 10 / (3 * 3), 1.0, 10 / (3 * 1)], rtol=1e-6)
    assert balanced[labels].mean() == pytest.approx(1.0)
    root = selection.class_weights(labels, 4, "sqrt")
    np.testing.assert_allclose(root[[0, 1, 3]] / root[0], np.sqrt(balanced[[0, 1, 3]] / balanced[0]), rtol=1e-6)
    assert root[labels].mean() == pytest.approx(1.0) and root[2] == 1.0
    np.testing.assert_array_equal(selection.class_weights(labels, 4, "none"), np.ones(4))
    with pytest.raises(ValueError, match="Expected class_weight to be one of"):
        selection.class_weights(labels, 4, "heavy")


def test_token_weights_follow_the_tags_and_padding_weighs_nothing():
    word_ids = [np.array([5, 6, 7], "int32"), np.array([8], "int32")]
    tag_ids = [np.array([0, 1, 2], "int32"), np.array([1], "int32")]
    per_tag = np.array([0.5, 2.0, 4.0], "float32")
    (_, tags, weights), *_ = tagging_batches.tagging_dataset(word_ids, tag_ids, 2, tag_weights=per_tag)
    np.testing.assert_array_equal(weights.numpy(), [[0.5, 2.0, 4.0], [2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(tags.numpy(), [[0, 1, 2], [1, 0, 0]])


POS_SENTENCES = "".join(f"John{i} NNP\nlives VBZ\nin IN\nParis NNP\n\n" for i in range(30))
NER_SENTENCES = "".join(f"John{i} B-PER\nlives O\nin O\nParis B-LOC\n\n" for i in range(30))


@pytest.mark.parametrize(
    "argv, sentences, message",
    [
        (["--class-weight", "heavy"], NER_SENTENCES, "argument --class-weight: invalid choice: 'heavy'"),
        (["--monitor", "val_mcc"], NER_SENTENCES, "argument --monitor: invalid choice: 'val_mcc'"),
        (["--crf", "--class-weight", "sqrt"], NER_SENTENCES, "Expected --class-weight none with --crf"),
        (["--monitor", "val_entity_f1"], POS_SENTENCES, "Expected entity tags (IOB) for --monitor val_entity_f1"),
    ],
)
def test_text_analysis_refuses_a_bad_monitor_or_class_weight(argv, sentences, message, tmp_path, capsys):
    (tmp_path / "train.conll").write_text(sentences)
    assert message in run_error("text_analysis", [*argv, "--data", str(tmp_path / "train.conll")], tmp_path, capsys)


def test_forecasts_refuse_a_classification_monitor(tmp_path, capsys):
    line = run_error("stocks", ["--monitor", "val_mcc"], tmp_path, capsys)
    assert "Expected --monitor to be auto, val_loss, val_mase for forecasts" in line
    line = run_error("stocks", ["--task", "movement", "--monitor", "val_mase"], tmp_path, capsys)
    assert "for --task movement (val_mase scores price forecasts)" in line


def test_forecasts_stop_on_the_validation_mase_of_their_price_forecasts(tmp_path):
    argv = ["--quick", "--model", "gru", "--epochs", "4", "--verbose", "0", "--output-dir", str(tmp_path)]
    report = stocks.main(argv)
    log = pd.read_csv(tmp_path / "logs" / "gru.csv")
    assert report["models"]["gru"]["best_epoch"] == kept_epoch(log, "val_mase", "min")
    # The score is the saved price model's MASE on the validation windows, as the test one is computed.
    from rnn_apps.tasks import forecasting

    saved = keras.models.load_model(tmp_path / report["models"]["gru"]["model_path"])
    recipe = stocks.RECIPE
    data = recipe.load_data(recipe.parse(argv))
    found, _ = forecasting.evaluate_price_model(saved, data.samples.validation)
    assert found["mase"] == pytest.approx(log["val_mase"].min(), rel=1e-4)


def test_entity_f1_selects_the_epoch_and_the_tuner_trials(tmp_path):
    # The default monitor of entity tags is the validation entity F1: every trial of --tune is
    # scored on it, and the final training keeps its best epoch.
    argv = ["--quick", "--model", "cnn", "--epochs", "2", "--tune", "2", "--tune-epochs", "1", "--verbose", "0"]
    report = text_analysis.main([*argv, "--class-weight", "sqrt", "--output-dir", str(tmp_path)])
    tuning = report["models"]["cnn"]["tuning"]
    assert tuning["selected_on"].startswith("validation val_entity_f1 (max)")
    for trial in tuning["history"]:
        folder = tmp_path / "tuning" / "cnn" / f"trial_{trial['trial']}"
        log = pd.read_csv(folder / "logs" / "cnn.csv")
        assert trial["score"] == pytest.approx(log["val_entity_f1"].max())
        # Trials of equal score are told apart by the validation loss at the epoch each kept.
        recorded = json.loads((folder / "trial.json").read_text())["metrics"]["metrics"][tuning_module.TIE_BREAKER]
        kept = kept_epoch(log, "val_entity_f1", "max")
        assert recorded["observations"][0]["value"][0] == pytest.approx(log["val_loss"][kept - 1])
    log = pd.read_csv(tmp_path / "logs" / "cnn.csv")
    assert report["models"]["cnn"]["best_epoch"] == kept_epoch(log, "val_entity_f1", "max")
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["class_weight"] == "sqrt"


@pytest.mark.slow  # the CRF's decoding inside the score is checked by the fast callback test above
def test_a_crf_tagger_follows_entity_f1_too(tmp_path):
    argv = ["--quick", "--model", "cnn", "--crf", "--epochs", "2", "--verbose", "0", "--output-dir", str(tmp_path)]
    report = text_analysis.main(argv)
    log = pd.read_csv(tmp_path / "logs" / "cnn.csv")
    assert report["models"]["cnn"]["best_epoch"] == kept_epoch(log, "val_entity_f1", "max")
    assert log["val_token_accuracy"].between(0, 1).all()


def test_movement_stops_on_the_validation_mcc(tmp_path):
    argv = ["--task", "movement", "--quick", "--model", "gru", "--verbose", "0", "--output-dir", str(tmp_path)]
    report = stocks.main(argv)
    log = pd.read_csv(tmp_path / "logs" / "gru.csv")
    assert {"val_mcc", "val_balanced_accuracy"} <= set(log.columns)
    assert report["models"]["gru"]["best_epoch"] == kept_epoch(log, "val_mcc", "max")


def test_the_translation_score_is_sacrebleu_of_the_live_models_greedy_translations():
    from rnn_apps.layers import encoders
    from rnn_apps.tasks import seq2seq, seq2seq_inference

    keras.utils.set_random_seed(0)
    core = seq2seq.seq2seq(encoders.EncoderConfig(model="gru", units=4), 5, 7, 4, 3, embedding_dim=4)
    vocabularies = (["the", "car", "red"], [seq2seq.START, seq2seq.END, "la", "voiture", "rouge"])
    pairs = (["The car.", "The red car."], ["La voiture.", "La voiture rouge."])
    callback = selection.ValidationScore(seq2seq_inference.validation_score(core, vocabularies, 4, 3, pairs))

    def expected():
        translator = seq2seq.IdTranslator.build(core, *vocabularies, 4, 3)
        hypotheses = [row["translation"] for row in seq2seq.translate(translator, pairs[0])]
        return seq2seq_inference.score(hypotheses, pairs[1])

    for _ in range(2):
        logs = {"val_loss": 1.0}
        callback.on_epoch_end(0, logs)
        want = expected()
        assert (logs["val_bleu"], logs["val_chrf"]) == (want["bleu"], want["chrf"]) and logs["val_loss"] == 1.0
        # The score reads the weights the model has now: training changes them between epochs.
        for weight in core.trainable_weights:
            weight.assign(np.random.default_rng(1).normal(size=weight.shape))


def test_translation_selects_the_epoch_and_the_tuner_trials_on_validation_bleu(tmp_path):
    from recipes import translation

    argv = ["--quick", "--model", "gru", "--max-pairs", "300", "--epochs", "3", "--verbose", "0"]
    report = translation.main([*argv, "--tune", "2", "--tune-epochs", "1", "--output-dir", str(tmp_path / "bleu")])
    tuning = report["models"]["gru"]["tuning"]
    assert tuning["selected_on"].startswith("validation val_bleu (max)")
    for trial in tuning["history"]:
        log = pd.read_csv(tmp_path / "bleu" / "tuning" / "gru" / f"trial_{trial['trial']}" / "logs" / "gru.csv")
        assert trial["score"] == pytest.approx(log["val_bleu"].max())
    log = pd.read_csv(tmp_path / "bleu" / "logs" / "gru.csv")
    assert log["val_bleu"].between(0, 100).all() and log["val_chrf"].between(0, 100).all()
    assert report["models"]["gru"]["best_epoch"] == kept_epoch(log, "val_bleu", "max")
    # --monitor val_loss decodes nothing after each epoch.
    translation.main([*argv, "--epochs", "1", "--monitor", "val_loss", "--output-dir", str(tmp_path / "loss")])
    assert "val_bleu" not in pd.read_csv(tmp_path / "loss" / "logs" / "gru.csv").columns


def test_digit_strings_stop_on_the_validation_wer(tmp_path):
    from recipes import speech

    argv = ["--task", "digits", "--quick", "--model", "gru", "--epochs", "2", "--verbose", "0"]
    report = speech.main([*argv, "--output-dir", str(tmp_path)])
    log = pd.read_csv(tmp_path / "logs" / "gru.csv")
    assert {"val_wer", "val_cer", "val_sequence_accuracy"} <= set(log.columns)
    assert log["val_wer"].ge(0).all() and log["val_sequence_accuracy"].between(0, 1).all()
    assert report["models"]["gru"]["best_epoch"] == kept_epoch(log, "val_wer", "min")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--monitor", "val_wer"], "Expected --monitor to be one of auto, val_loss, val_accuracy for --task keywords"),
        (["--task", "digits", "--monitor", "val_accuracy"], "for --task digits. Received: --monitor='val_accuracy'"),
    ],
)
def test_speech_refuses_a_monitor_its_task_does_not_write(argv, message, tmp_path, capsys):
    assert message in run_error("speech", ["--quick", *argv], tmp_path, capsys)


@pytest.mark.parametrize("tie_breaker", [None, "val_loss"])
def test_a_score_stuck_at_its_floor_does_not_stop_training_while_the_loss_falls(tie_breaker, tmp_path):
    # A CTC model answering only blanks: WER 1.0 for four epochs while the loss falls, then the WER moves.
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False  # as fit sets it
    stop = training.ResumableEarlyStopping(tmp_path, tie_breaker, monitor="val_wer", mode="min", patience=2)
    stop.set_model(model)
    stop.on_train_begin()
    epochs = [(1.0, 3.0), (1.0, 2.0), (1.0, 1.5), (1.0, 1.4), (0.8, 1.3)]
    for epoch, (wer, loss) in enumerate(epochs):
        stop.on_epoch_end(epoch, {"val_wer": wer, "val_loss": loss})
        if model.stop_training:
            break
    if tie_breaker is None:  # the plain rule: patience runs out at the floor
        assert model.stop_training and epoch == 2 and stop.best_epoch == 0
    else:
        assert not model.stop_training and stop.best_epoch == 4
    ties = [loss for _, loss in epochs] if tie_breaker else None
    wers = [wer for wer, _ in epochs[: epoch + 1]]
    assert training.best_epoch(wers, "min", ties) == stop.best_epoch + 1
