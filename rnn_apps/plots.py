"""PNG plots of runs: learning curves and confusion matrices (matplotlib, Agg)."""

from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rnn_apps import io  # noqa: E402


def learning_curves(histories: dict[str, dict[str, list[float]]], path: str | os.PathLike, metric: str = "accuracy"):
    """Plot loss and ``metric`` per epoch, training dashed, validation solid.

    Args:
        histories: model name -> ``History.history`` dict.
        path: PNG file to write (atomically).
        metric: the second panel's metric.
    """
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (name, history), color in zip(histories.items(), plt.cm.tab10.colors):
        for axis, key in zip(axes, ("loss", metric)):
            if key in history:
                epochs = range(1, len(history[key]) + 1)
                axis.plot(epochs, history[key], "--", color=color, alpha=0.6)
            if f"val_{key}" in history:
                epochs = range(1, len(history[f"val_{key}"]) + 1)
                axis.plot(epochs, history[f"val_{key}"], "-", color=color, label=name)
    for axis, key in zip(axes, ("loss", metric)):
        axis.set_xlabel("epoch")
        axis.set_ylabel(key)
        axis.grid(alpha=0.3)
    axes[0].set_title("loss (dashed: training, solid: validation)")
    axes[1].set_title(metric)
    axes[1].legend()
    figure.tight_layout()
    io.save_figure(figure, path)
    plt.close(figure)


def confusion_matrices(matrices: dict, class_names: list[str], path: str | os.PathLike):
    """One confusion-matrix panel per model (rows: true class, columns: predicted)."""
    count = len(matrices)
    columns = min(count, 3)
    rows = math.ceil(count / columns)
    size = 1.2 + 0.45 * len(class_names)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size + 1, rows * size + 0.6), squeeze=False)
    for axis in axes.flat[count:]:
        axis.axis("off")
    for axis, (name, matrix) in zip(axes.flat, matrices.items()):
        axis.imshow(matrix, cmap="Blues")
        axis.set_title(name)
        ticks = range(len(class_names))
        axis.set_xticks(ticks, class_names, rotation=45, ha="right")
        axis.set_yticks(ticks, class_names)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        peak = matrix.max() or 1
        for i in ticks:
            for j in ticks:
                color = "white" if matrix[i, j] > peak / 2 else "black"
                axis.text(j, i, int(matrix[i, j]), ha="center", va="center", color=color, fontsize=8)
    figure.tight_layout()
    io.save_figure(figure, path)
    plt.close(figure)
