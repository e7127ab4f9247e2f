"""PNG plots of runs: learning curves, confusion matrices and the task figures (matplotlib).

Figures are made with matplotlib's object API (`matplotlib.figure.Figure`),
not `matplotlib.pyplot`: they are drawn straight to PNG files, so they need
no plotting backend and no display, never open a window, and leave
pyplot's list of open figures alone. Importing this module chooses no
backend either; that is the program's choice (see
`rnn_apps.harness.runtime.configure`).

Every figure fits the text column of a documentation page
(`PAGE_WIDTH` inches wide at most) with its text at a readable size there:
sizes that grow with the data (classes, sentences, frames) grow the figure
downwards and shrink the cells, not the page. Each function saves its
figure and returns it, so a caller (a test, a notebook) can look at what
was drawn.
"""

from __future__ import annotations

import math
import os
import textwrap

import matplotlib
import matplotlib.colors
import matplotlib.figure
import matplotlib.ticker
import numpy as np

from rnn_apps import io

PAGE_WIDTH = 8.0
"""Widest figure, in inches: the text column of a docs page at the resolution `rnn_apps.io.save_figure` uses."""

_POINTS = 72  # points per inch, to turn cell sizes into font sizes


def _subplots(rows: int = 1, columns: int = 1, *, figsize, squeeze: bool = True):
    """``(figure, axes)`` as `matplotlib.pyplot.subplots` returns them, on a figure of no backend.

    Saving the figure as PNG draws it with Agg, whatever backend pyplot uses.
    """
    figure = matplotlib.figure.Figure(figsize=figsize)
    return figure, figure.subplots(rows, columns, squeeze=squeeze)


def _save(figure, path: str | os.PathLike):
    io.save_figure(figure, path)
    return figure


def _colors():
    return matplotlib.colormaps["tab10"].colors


def _integer_epochs(axis) -> None:
    """Label the x axis ``epoch`` with whole-number ticks (a short run would otherwise show 1.5)."""
    axis.set_xlabel("epoch")
    # One whole tick is enough: with the default two, a one-epoch run gets fractional ticks again.
    axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))


def _luminance(color) -> float:
    """Relative luminance of a colour, 0 (black) to 1 (white), as the WCAG contrast ratio defines it."""
    channels = np.asarray(matplotlib.colors.to_rgb(color))
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def text_color_on(background) -> str:
    """``"black"`` or ``"white"``, whichever stands out more on ``background``.

    Compares the WCAG contrast ratios of both against the background, so
    pale cells get dark text and dark cells light text, whatever the
    colour map.

    >>> text_color_on("white"), text_color_on("navy")
    ('black', 'white')
    """
    luminance = _luminance(background)
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def learning_curves(
    histories: dict[str, dict[str, list[float]]], path: str | os.PathLike, metric: str | None = "accuracy"
):
    """Plot loss and ``metric`` per epoch (counted from 1), training dashed, validation solid.

    Args:
        histories: model name -> ``History.history`` dict.
        path: PNG file to write (atomically).
        metric: the second panel's metric. There is no second panel when
            it is ``"loss"`` or `None`, or when no history holds it.

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    keys = ["loss"]
    if metric not in (None, "loss") and any(metric in h or f"val_{metric}" in h for h in histories.values()):
        keys.append(metric)
    width = PAGE_WIDTH if len(keys) == 2 else 0.75 * PAGE_WIDTH
    figure, axes = _subplots(1, len(keys), figsize=(width, 3.4), squeeze=False)
    axes = axes[0]
    for (name, history), color in zip(histories.items(), _colors()):
        for axis, key in zip(axes, keys):
            # The legend names each model once: by its validation curve, or its training curve if that is all.
            validation = f"val_{key}" in history
            if key in history:
                epochs = range(1, len(history[key]) + 1)
                axis.plot(epochs, history[key], "--", color=color, alpha=0.6, label=None if validation else name)
            if validation:
                epochs = range(1, len(history[f"val_{key}"]) + 1)
                axis.plot(epochs, history[f"val_{key}"], "-", color=color, label=name)
    for axis, key in zip(axes, keys):
        _integer_epochs(axis)
        axis.set_ylabel(key)
        axis.set_title(key, fontsize=10)
        axis.grid(alpha=0.3)
    if axes[-1].get_legend_handles_labels()[1]:
        axes[-1].legend(fontsize=8)
    figure.suptitle("dashed: training, solid: validation", fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def per_type_scores(scores: dict[str, dict[str, float]], path: str | os.PathLike, ylabel: str = "F1"):
    """Grouped bars: one group per type (entity type, class), one bar per model.

    Args:
        scores: model name -> {type: score in [0, 1]}.
        path: PNG file to write (atomically).
        ylabel: what the scores are.

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    kinds = sorted({kind for values in scores.values() for kind in values})
    models = max(len(scores), 1)
    width = min(PAGE_WIDTH, max(5.0, 0.3 * len(kinds) * models + 1.5))
    figure, axis = _subplots(figsize=(width, 3.6))
    bar = 0.8 / models
    for index, ((name, values), color) in enumerate(zip(scores.items(), _colors())):
        positions = [k + index * bar - 0.4 + bar / 2 for k in range(len(kinds))]
        axis.bar(positions, [values.get(kind, 0.0) for kind in kinds], bar, label=name, color=color)
    group = (width - 1.0) / max(len(kinds), 1) * _POINTS
    long_names = max((len(kind) for kind in kinds), default=0) * 0.6 * 9 > 0.9 * group
    axis.set_xticks(
        range(len(kinds)), kinds, fontsize=9, rotation=45 if long_names else 0, ha="right" if long_names else "center"
    )
    axis.set_ylim(0, 1.15)  # room above the bars for the legend
    axis.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axis.set_ylabel(ylabel)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8, ncol=min(len(scores), 5), loc="upper center")
    figure.tight_layout()
    return _save(figure, path)


_MATRIX_MARGIN = 0.9  # inches beside a confusion matrix for its tick labels and axis titles
_SMALLEST_CELL = 0.28  # inches: below this, panels go one under another instead of side by side


def _matrix_layout(count: int, classes: int) -> tuple[int, float, float]:
    """``(columns, panel inches, cell points)`` for ``count`` confusion matrices of ``classes`` classes.

    As many panels side by side (three at most) as fit `PAGE_WIDTH` with
    cells of `_SMALLEST_CELL` inches; a few classes get larger cells.
    """
    classes = max(classes, 1)
    fitting = int(PAGE_WIDTH // (_MATRIX_MARGIN + _SMALLEST_CELL * classes))
    columns = max(1, min(count, 3, fitting))
    cell = max(_SMALLEST_CELL, min(0.7, 2.4 / classes))
    panel = min(_MATRIX_MARGIN + cell * classes, PAGE_WIDTH / columns)
    return columns, panel, (panel - _MATRIX_MARGIN) / classes * _POINTS


def _cell_label(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}"


def confusion_matrices(matrices: dict, class_names: list[str], path: str | os.PathLike):
    """One confusion-matrix panel per model (rows: true class, columns: predicted).

    Colours run from 0 (palest) to each panel's largest cell; every cell
    shows its count in black or white, whichever stands out on the cell.
    Cells, fonts and panels per row shrink as classes grow, so the figure
    keeps to `PAGE_WIDTH`; counts are left out when their font would be
    too small to read.

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    count = max(len(matrices), 1)
    columns, panel, cell = _matrix_layout(count, len(class_names))
    rows = math.ceil(count / columns)
    figure, axes = _subplots(rows, columns, figsize=(columns * panel, rows * (panel + 0.3)), squeeze=False)
    for axis in axes.flat[len(matrices) :]:
        axis.axis("off")
    label_size = min(9.0, max(5.0, 0.6 * cell))
    longest = max((len(name) for name in class_names), default=0)
    rotate = longest * 0.6 * label_size > 0.9 * cell
    cmap = matplotlib.colormaps["Blues"]
    for axis, (name, matrix) in zip(axes.flat, matrices.items()):
        matrix = np.asarray(matrix)
        peak = float(matrix.max()) if matrix.size and matrix.max() > 0 else 1.0
        norm = matplotlib.colors.Normalize(vmin=0, vmax=peak)
        axis.imshow(matrix, cmap=cmap, norm=norm)
        axis.set_title(name, fontsize=10)
        ticks = range(len(class_names))
        axis.set_xticks(
            ticks,
            class_names,
            fontsize=label_size,
            rotation=45 if rotate else 0,
            ha="right" if rotate else "center",
            rotation_mode="anchor",
        )
        axis.set_yticks(ticks, class_names, fontsize=label_size)
        axis.set_xlabel("predicted", fontsize=9)
        axis.set_ylabel("true", fontsize=9)
        digits = len(_cell_label(peak))
        number_size = min(9.0, cell / (0.62 * digits + 0.6))
        if number_size < 4.5:
            continue
        for i in ticks:
            for j in ticks:
                color = text_color_on(cmap(norm(matrix[i, j])))
                axis.text(j, i, _cell_label(matrix[i, j]), ha="center", va="center", color=color, fontsize=number_size)
    figure.tight_layout()
    return _save(figure, path)


def forecasts(panels: dict, path: str | os.PathLike, naive: str = "persistence", ylabel: str = "price"):
    """Test-period forecasts against the actual values, one panel per series.

    Args:
        panels: series name -> ``(x, actual, {model: forecasts})``, where
            ``x`` holds the target dates (or steps) of the test samples.
        path: PNG file to write (atomically).
        naive: the baseline drawn dashed in grey.
        ylabel: label of the value axis.

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    count = max(1, len(panels))
    figure, axes = _subplots(count, 1, figsize=(PAGE_WIDTH, 2.8 * count + 0.4), squeeze=False)
    for axis, (title, (x, actual, lines)) in zip(axes[:, 0], panels.items()):
        axis.plot(x, actual, color="black", linewidth=2, label="actual")
        for (name, values), color in zip(lines.items(), _colors()):
            if name == naive:
                axis.plot(x, values, "--", color="grey", linewidth=1.2, label=name)
            else:
                axis.plot(x, values, color=color, linewidth=1, alpha=0.85, label=name)
        axis.set_title(title, fontsize=10)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, ncol=4)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _save(figure, path)


def spectrograms(images, titles, path: str | os.PathLike, seconds_per_frame: float | None = None):
    """Draw ``(frames, bins)`` spectrograms one above the other, each with its title.

    Args:
        images: 2-D arrays, frames by frequency bins (log-mel decibels, say).
        titles: one title per image (e.g. the true and predicted label).
        path: PNG file to write (atomically).
        seconds_per_frame: frame hop, to label the time axis in seconds
            (frames when `None`).

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    count = max(len(images), 1)
    figure, axes = _subplots(count, 1, figsize=(PAGE_WIDTH, 2.2 * count + 0.4), squeeze=False)
    for axis, image, title in zip(axes[:, 0], images, titles):
        frames = len(image)
        extent = (0, frames * (seconds_per_frame or 1), 0, image.shape[1])
        axis.imshow(image.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
        axis.set_title(textwrap.shorten(str(title), 110), fontsize=10)
        axis.set_ylabel("frequency bin")
        axis.set_xlabel("seconds" if seconds_per_frame else "frame")
    figure.tight_layout()
    return _save(figure, path)


def attention_maps(maps, path: str | os.PathLike):
    """Draw attention weights as heat maps, two panels a row at most (one for long sentences).

    Args:
        maps: list of ``(weights, source_words, output_words, title)``;
            ``weights`` is ``(len(output_words), len(source_words))``, row
            ``i`` the attention paid while producing output word ``i``.
        path: PNG file to write (atomically).

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    count = max(len(maps), 1)
    widest = max((len(source) for _, source, _, _ in maps), default=1)
    tallest = max((len(output) for _, _, output, _ in maps), default=1)
    columns = min(count, 2 if widest <= 14 else 1)
    rows = math.ceil(count / columns)
    panel = min(PAGE_WIDTH / columns, 1.3 + 0.32 * widest)
    height = 1.7 + 0.2 * tallest  # the source words stand upright under each panel
    figure, axes = _subplots(rows, columns, figsize=(columns * panel, rows * height), squeeze=False)
    for axis in axes.flat[len(maps) :]:
        axis.axis("off")
    title_characters = max(20, int((panel - 1.0) * _POINTS / (0.55 * 9)))  # the tick labels take the rest
    for axis, (weights, source_words, output_words, title) in zip(axes.flat, maps):
        axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        axis.set_xticks(range(len(source_words)), source_words, rotation=90, fontsize=8)
        axis.set_yticks(range(len(output_words)), output_words, fontsize=8)
        axis.set_title(textwrap.fill(str(title), title_characters), fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def clip_predictions(
    inputs,
    labels,
    predicted,
    class_names: list[str],
    title: str,
    path: str | os.PathLike,
    rows: int = 6,
    columns: int = 9,
):
    """Draw a few test clips, one per row under its true and predicted labels.

    Clips ``(n, frames, height, width, channels)`` (0 to 255) show up to
    ``columns`` frames each, spread over the clip; joint tracks
    ``(n, time, channels)`` are drawn as curves, one per coordinate.

    Args:
        inputs: the clips or tracks.
        labels: their true class indices.
        predicted: the predicted class indices.
        class_names: names of the classes, by index.
        title: the figure's title.
        path: PNG file to write (atomically).
        rows: clips to draw at most (a fixed random choice).
        columns: frames to show per clip at most.

    Returns:
        The `matplotlib.figure.Figure` written.
    """
    chosen = np.random.default_rng(0).permutation(len(labels))[: min(rows, len(labels))]
    tracks = np.ndim(inputs) == 3
    if tracks:
        shown = np.array([0])
        row_height = 1.3
    else:
        count = inputs.shape[1]
        shown = np.unique(np.linspace(0, count - 1, min(columns, count)).round().astype(int))
        row_height = (PAGE_WIDTH - 0.2) / len(shown) + 0.45  # square frames under a line of caption
    figure = matplotlib.figure.Figure(figsize=(PAGE_WIDTH, row_height * len(chosen) + 0.5), layout="constrained")
    figure.suptitle(title, fontsize=10)
    for row, (subfigure, index) in enumerate(zip(np.atleast_1d(figure.subfigures(len(chosen), 1)), chosen)):
        true, guess = class_names[labels[index]], class_names[predicted[index]]
        right = labels[index] == predicted[index]
        caption = f"true: {true} | predicted: {guess}" + ("" if right else " (wrong)")
        # Dark red for a wrong answer: it stands out and reads on white.
        subfigure.suptitle(caption, fontsize=9, color="black" if right else "#a50f15")
        axes = subfigure.subplots(1, len(shown), squeeze=False)[0]
        if tracks:
            axes[0].plot(inputs[index], linewidth=0.8)
        for axis, frame in zip(axes, shown):
            if not tracks:
                image = inputs[index, frame]
                axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
                if row == len(chosen) - 1:
                    axis.set_xlabel(f"frame {frame}", fontsize=8)
            axis.set_xticks([])
            axis.set_yticks([])
    return _save(figure, path)
