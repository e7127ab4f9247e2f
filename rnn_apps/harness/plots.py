"""PNG plots of runs: learning curves and confusion matrices (matplotlib).

Figures are made with matplotlib's object API (`matplotlib.figure.Figure`),
not `matplotlib.pyplot`: they are drawn straight to PNG files, so they need
no plotting backend and no display, never open a window, and leave
pyplot's list of open figures alone. Importing this module chooses no
backend either; that is the program's choice (see
`rnn_apps.harness.runtime.configure`).
"""

from __future__ import annotations

import math
import os

import matplotlib
import matplotlib.figure

from rnn_apps import io


def _subplots(rows: int = 1, columns: int = 1, *, figsize, squeeze: bool = True):
    """``(figure, axes)`` as `matplotlib.pyplot.subplots` returns them, on a figure of no backend.

    Saving the figure as PNG draws it with Agg, whatever backend pyplot uses.
    """
    figure = matplotlib.figure.Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns, squeeze=squeeze)


def _colors():
    return matplotlib.colormaps["tab10"].colors


def learning_curves(histories: dict[str, dict[str, list[float]]], path: str | os.PathLike, metric: str = "accuracy"):
    """Plot loss and ``metric`` per epoch, training dashed, validation solid.

    Args:
        histories: model name -> ``History.history`` dict.
        path: PNG file to write (atomically).
        metric: the second panel's metric.
    """
    figure, axes = _subplots(1, 2, figsize=(11, 4))
    for (name, history), color in zip(histories.items(), _colors()):
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


def per_type_scores(scores: dict[str, dict[str, float]], path: str | os.PathLike, ylabel: str = "F1"):
    """Grouped bars: one group per type (entity type, class), one bar per model.

    Args:
        scores: model name -> {type: score in [0, 1]}.
        path: PNG file to write (atomically).
        ylabel: what the scores are.
    """
    kinds = sorted({kind for values in scores.values() for kind in values})
    width = 0.8 / max(len(scores), 1)
    figure, axis = _subplots(figsize=(max(5, 1.2 * len(kinds) * max(len(scores), 1) * 0.5 + 2), 4))
    for index, ((name, values), color) in enumerate(zip(scores.items(), _colors())):
        positions = [k + index * width - 0.4 + width / 2 for k in range(len(kinds))]
        axis.bar(positions, [values.get(kind, 0.0) for kind in kinds], width, label=name, color=color)
    axis.set_xticks(range(len(kinds)), kinds)
    axis.set_ylim(0, 1.15)  # room above the bars for the legend
    axis.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axis.set_ylabel(ylabel)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8, ncol=min(len(scores), 5), loc="upper center")
    figure.tight_layout()
    io.save_figure(figure, path)


def confusion_matrices(matrices: dict, class_names: list[str], path: str | os.PathLike):
    """One confusion-matrix panel per model (rows: true class, columns: predicted)."""
    count = len(matrices)
    columns = min(count, 3)
    rows = math.ceil(count / columns)
    size = 1.2 + 0.45 * len(class_names)
    figure, axes = _subplots(rows, columns, figsize=(columns * size + 1, rows * size + 0.6), squeeze=False)
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


def forecasts(panels: dict, path: str | os.PathLike, naive: str = "persistence", ylabel: str = "price"):
    """Test-period forecasts against the actual values, one panel per series.

    Args:
        panels: series name -> ``(x, actual, {model: forecasts})``, where
            ``x`` holds the target dates (or steps) of the test samples.
        path: PNG file to write (atomically).
        naive: the baseline drawn dashed in grey.
        ylabel: label of the value axis.
    """
    count = max(1, len(panels))
    figure, axes = _subplots(count, 1, figsize=(11, 3.2 * count), squeeze=False)
    for axis, (title, (x, actual, lines)) in zip(axes[:, 0], panels.items()):
        axis.plot(x, actual, color="black", linewidth=2, label="actual")
        for (name, values), color in zip(lines.items(), _colors()):
            if name == naive:
                axis.plot(x, values, "--", color="grey", linewidth=1.2, label=name)
            else:
                axis.plot(x, values, color=color, linewidth=1, alpha=0.85, label=name)
        axis.set_title(title)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, ncol=4)
    figure.autofmt_xdate()
    figure.tight_layout()
    io.save_figure(figure, path)


def spectrograms(images, titles, path: str | os.PathLike, seconds_per_frame: float | None = None):
    """Draw ``(frames, bins)`` spectrograms one above the other, each with its title.

    Args:
        images: 2-D arrays, frames by frequency bins (log-mel decibels, say).
        titles: one title per image (e.g. the true and predicted label).
        path: PNG file to write (atomically).
        seconds_per_frame: frame hop, to label the time axis in seconds
            (frames when `None`).
    """
    count = len(images)
    figure, axes = _subplots(count, 1, figsize=(8, 2.2 * count + 0.4), squeeze=False)
    for axis, image, title in zip(axes[:, 0], images, titles):
        frames = len(image)
        extent = (0, frames * (seconds_per_frame or 1), 0, image.shape[1])
        axis.imshow(image.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
        axis.set_title(title, fontsize=10)
        axis.set_ylabel("frequency bin")
        axis.set_xlabel("seconds" if seconds_per_frame else "frame")
    figure.tight_layout()
    io.save_figure(figure, path)


def attention_maps(maps, path: str | os.PathLike):
    """Draw attention weights as heat maps, one panel per sentence.

    Args:
        maps: list of ``(weights, source_words, output_words, title)``;
            ``weights`` is ``(len(output_words), len(source_words))``, row
            ``i`` the attention paid while producing output word ``i``.
        path: PNG file to write (atomically).
    """
    count = len(maps)
    figure, axes = _subplots(1, count, figsize=(4.5 * count, 4.5), squeeze=False)
    for axis, (weights, source_words, output_words, title) in zip(axes[0], maps):
        axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        axis.set_xticks(range(len(source_words)), source_words, rotation=90, fontsize=8)
        axis.set_yticks(range(len(output_words)), output_words, fontsize=8)
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    io.save_figure(figure, path)
