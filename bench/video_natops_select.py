"""Choose the recurrent configuration for the NATOPS benchmark on the training file only.

Five-fold stratified cross-validation inside NATOPS_TRAIN.ts (the test file is
never read), for a handful of recurrent settings; the one with the best mean
validation accuracy is the one the benchmark runs on the official test split.

    python bench/video_natops_select.py /work/shared/datasets/video/natops/NATOPS_TRAIN.ts [CANDIDATE ...]

(The fold used for early stopping is also the one scored, which flatters
every candidate alike; the numbers rank candidates, they are not estimates
of test accuracy.)

A one-off selection, kept as the record of how the ``video-natops``
benchmark's recurrent setting (one GRU layer of 64 units, the recipe
default) was chosen: its protocol and the candidates' scores are in
``bench/results/video-natops.md``. It is not a benchmark of its own and
``python -m bench`` does not run it; rerun it only to check or revisit that
choice.
"""

import statistics
import sys

import keras
import numpy as np
from sklearn import model_selection

from rnn_apps.data import uea
from rnn_apps.harness import training
from rnn_apps.layers import encoders
from rnn_apps.tasks import classifiers, video_models

CANDIDATES = {
    "gru 64": dict(model="gru", units=64),
    "gru 64 bidirectional": dict(model="gru", units=64, bidirectional=True),
    "lstm 64 bidirectional": dict(model="lstm", units=64, bidirectional=True),
    "gru 128 bidirectional, 2 layers": dict(model="gru", units=128, bidirectional=True, num_layers=2),
    "gru 64, dropout 0.2": dict(model="gru", units=64, dropout=0.2),
    "lstm 64, dropout 0.2": dict(model="lstm", units=64, dropout=0.2),
}


def cross_validate(inputs, labels, settings, folds=5, seed=0, epochs=200, patience=25):
    scores = []
    splitter = model_selection.StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, held in splitter.split(inputs, labels):
        training.set_seed(seed)
        normalizer = keras.layers.Normalization(axis=-1, name="normalize")
        normalizer.adapt(inputs[train].reshape(-1, inputs.shape[-1]))
        config = encoders.EncoderConfig(**settings)
        model = video_models.sequence_model(config, num_classes=6, feature_dim=inputs.shape[-1], normalizer=normalizer)
        classifiers.compile_classifier(model, 6, 1e-3)
        stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
        model.fit(
            inputs[train],
            labels[train],
            validation_data=(inputs[held], labels[held]),
            epochs=epochs,
            batch_size=32,
            callbacks=[stop],
            verbose=0,
        )
        scores.append(float(model.evaluate(inputs[held], labels[held], verbose=0)[1]))
    return scores


def main(path, only=()):
    content = uea.read_ts(path)
    inputs = uea.pad_series(content.series)
    labels = np.array([content.class_names.index(label) for label in content.labels])
    for name, settings in CANDIDATES.items():
        if only and name not in only:
            continue
        scores = cross_validate(inputs, labels, settings)
        print(f"{name}: mean {statistics.mean(scores):.4f} folds {[round(s, 3) for s in scores]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], only=sys.argv[2:])
