"""The run plots (rnn_apps.harness.plots) read well on a docs page: built from toy inputs, checked on the figures."""

import itertools

import matplotlib
import numpy as np
import pytest
from matplotlib.backends import backend_agg

from rnn_apps.harness import plots

SPEECH_WORDS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes"]
MODELS = ["simple_rnn", "lstm", "gru", "cnn", "majority"]
SMALLEST_FONT = 7  # points: still readable once the PNG is shown at its size on a docs page


def contrast(first, second) -> float:
    """WCAG contrast ratio of two colours, 1 (the same) to 21 (black on white)."""

    def luminance(color):
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in matplotlib.colors.to_rgb(color)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def drawn(figure):
    """A renderer that has drawn ``figure`` (Agg, no window), to measure its text."""
    canvas = backend_agg.FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def cell_texts(axis) -> dict:
    """(row, column) -> the number written in that cell of a confusion-matrix panel."""
    return {(round(text.get_position()[1]), round(text.get_position()[0])): text for text in axis.texts}


def assert_fits_the_page(figure):
    assert figure.get_size_inches()[0] <= plots.PAGE_WIDTH


def assert_no_overlap(labels, renderer):
    boxes = [label.get_window_extent(renderer) for label in labels if label.get_text()]
    assert len(boxes) > 1
    for first, second in itertools.combinations(boxes, 2):
        assert not first.overlaps(second)


def assert_x_labels_apart(axis, renderer):
    """Upright x tick labels do not overlap; slanted ones leave a line of text between neighbours."""
    labels = axis.get_xticklabels()
    if labels[0].get_rotation() == 0:
        return assert_no_overlap(labels, renderer)
    anchors = [axis.transData.transform((tick, 0))[0] for tick in axis.get_xticks()]
    across = np.diff(anchors).min() * np.sin(np.radians(labels[0].get_rotation()))
    assert across >= max(renderer.points_to_pixels(label.get_fontsize()) for label in labels)


def test_confusion_cell_numbers_contrast_with_their_cells(tmp_path):
    matrix = np.array([[9, 1, 0], [2, 5, 0], [0, 3, 7]])
    figure = plots.confusion_matrices({"lstm": matrix}, ["a", "b", "c"], tmp_path / "matrix.png")
    axis = figure.axes[0]
    image = axis.images[0]
    assert image.norm.vmin == 0 and image.norm.vmax == 9
    texts = cell_texts(axis)
    assert len(texts) == matrix.size
    cells = image.to_rgba(matrix)
    for (row, column), text in texts.items():
        assert text.get_text() == str(matrix[row, column])
        assert contrast(text.get_color(), cells[row, column]) >= 4.5, (row, column)
    pale, dark = texts[(0, 2)], texts[(0, 0)]
    assert contrast(pale.get_color(), "black") < contrast(pale.get_color(), "white")  # dark text on the empty cell
    assert contrast(dark.get_color(), "white") < contrast(dark.get_color(), "black")  # light text on the peak
    assert (tmp_path / "matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_confusion_colours_start_at_zero(tmp_path):
    """A matrix with no empty cell still draws its smallest count paler than its largest."""
    figure = plots.confusion_matrices({"cnn": np.array([[40, 30], [30, 40]])}, ["down", "up"], tmp_path / "m.png")
    image = figure.axes[0].images[0]
    assert image.norm.vmin == 0
    assert contrast(image.to_rgba(np.array([[30]]))[0, 0], "white") < contrast(
        image.to_rgba(np.array([[40]]))[0, 0], "white"
    )


def test_many_class_confusion_matrices_fit_the_page_and_stay_readable(tmp_path):
    rng = np.random.default_rng(0)
    matrices = {name: rng.integers(0, 12, (10, 10)) for name in MODELS}
    figure = plots.confusion_matrices(matrices, SPEECH_WORDS, tmp_path / "speech.png")
    assert_fits_the_page(figure)
    renderer = drawn(figure)
    panels = [axis for axis in figure.axes if axis.images]
    assert len(panels) == len(MODELS)
    for axis in panels:
        labels = axis.get_xticklabels()
        assert all(label.get_rotation() == 45 for label in labels)  # "right" does not fit under its column
        assert_x_labels_apart(axis, renderer)
        assert_no_overlap(axis.get_yticklabels(), renderer)
        assert min(label.get_fontsize() for label in labels) >= SMALLEST_FONT
        assert len(axis.texts) == 100 and min(text.get_fontsize() for text in axis.texts) >= SMALLEST_FONT
    # Panels do not run into each other either.
    assert_no_overlap([axis.title for axis in panels], renderer)


def test_short_class_names_stay_upright(tmp_path):
    figure = plots.confusion_matrices({"lstm": np.eye(3)}, ["0", "1", "2"], tmp_path / "digits.png")
    assert {label.get_rotation() for label in figure.axes[0].get_xticklabels()} == {0}


HISTORY = {"loss": [2.0, 1.2, 0.9], "val_loss": [2.1, 1.5, 1.3]}


@pytest.mark.parametrize("metric", ["loss", None, "accuracy"])
def test_learning_curves_draw_the_loss_once(tmp_path, metric):
    """Metric "loss", no metric, or a metric the histories lack: one panel, not the loss twice."""
    figure = plots.learning_curves({"lstm": HISTORY, "cnn": HISTORY}, tmp_path / "curves.png", metric=metric)
    assert len(figure.axes) == 1
    assert figure.axes[0].get_ylabel() == "loss"
    assert figure.axes[0].get_legend() is not None
    assert_fits_the_page(figure)


def test_learning_curves_draw_the_metric_beside_the_loss(tmp_path):
    history = HISTORY | {"accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.65]}
    figure = plots.learning_curves({"lstm": history}, tmp_path / "curves.png", metric="accuracy")
    assert [axis.get_ylabel() for axis in figure.axes] == ["loss", "accuracy"]
    assert_fits_the_page(figure)


@pytest.mark.parametrize("epochs", [1, 2, 3, 7])
def test_learning_curves_count_whole_epochs_from_one(tmp_path, epochs):
    history = {"loss": list(np.linspace(2, 1, epochs)), "val_loss": list(np.linspace(2.2, 1.4, epochs))}
    figure = plots.learning_curves({"gru": history}, tmp_path / "curves.png", metric="loss")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "epoch"
    low, high = axis.get_xlim()
    shown = [tick for tick in axis.get_xticks() if low <= tick <= high]
    assert shown and all(float(tick).is_integer() for tick in shown)
    assert min(shown) == 1 and max(shown) <= epochs
    first_line = axis.get_lines()[0]
    assert list(first_line.get_xdata()) == list(range(1, epochs + 1))


def test_attention_maps_fit_the_page_with_whole_titles(tmp_path):
    source = "a big green boy follows the small white girl near a black house .".split()
    output = "un grand garçon vert suit la petite fille blanche près d ' une maison noire . [end]".split()
    title = "A big green boy follows the small white girl near a black house."
    weights = np.full((len(output), len(source)), 1 / len(source))
    figure = plots.attention_maps([(weights, source, output, title)] * 3, tmp_path / "attention.png")
    assert_fits_the_page(figure)
    renderer = drawn(figure)
    page = figure.bbox
    panels = [axis for axis in figure.axes if axis.images]
    assert len(panels) == 3
    for axis in panels:
        box = axis.title.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1  # no title cut at the figure's edge
        assert axis.title.get_text().replace("\n", " ") == title
        assert_x_labels_apart(axis, renderer)
    assert_no_overlap([axis.title for axis in panels], renderer)


def test_spectrograms_fit_the_page(tmp_path):
    images = [np.random.default_rng(1).random((30, 16)) for _ in range(3)]
    figure = plots.spectrograms(images, ["true: yes | lstm: no"] * 3, tmp_path / "spectra.png", 0.01)
    assert_fits_the_page(figure)
    assert [axis.get_xlabel() for axis in figure.axes] == ["seconds"] * 3


def test_clip_predictions_fit_the_page_with_readable_captions(tmp_path):
    rng = np.random.default_rng(2)
    clips = rng.integers(0, 255, (5, 16, 8, 8, 1)).astype(np.uint8)
    labels = np.array([0, 1, 2, 3, 1])
    predicted = np.array([0, 1, 2, 1, 1])
    names = ["clockwise", "clockwise_2laps", "anticlockwise", "anticlockwise_2laps"]
    figure = plots.clip_predictions(clips, labels, predicted, names, "test clips", tmp_path / "clips.png", columns=9)
    assert_fits_the_page(figure)
    rows = figure.subfigs
    assert len(rows) == 5 and all(len(row.axes) == 9 for row in rows)
    captions = [
        text for row in rows for text in row.findobj(matplotlib.text.Text) if text.get_text().startswith("true:")
    ]
    assert len(captions) == 5
    assert all(caption.get_fontsize() >= SMALLEST_FONT for caption in captions)
    wrong = [caption for caption in captions if "wrong" in caption.get_text()]
    assert [caption.get_text() for caption in wrong] == [
        "true: anticlockwise_2laps | predicted: clockwise_2laps (wrong)"
    ]
    assert contrast(wrong[0].get_color(), "white") >= 4.5
    renderer = drawn(figure)
    for caption in captions:
        box = caption.get_window_extent(renderer)
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1


def test_clip_predictions_draw_joint_tracks(tmp_path):
    tracks = np.random.default_rng(3).random((3, 20, 4))
    figure = plots.clip_predictions(tracks, [0, 1, 0], [0, 0, 0], ["wave", "clap"], "tracks", tmp_path / "tracks.png")
    assert_fits_the_page(figure)
    assert [len(row.axes[0].get_lines()) for row in figure.subfigs] == [4, 4, 4]


def test_forecasts_and_per_type_scores_fit_the_page(tmp_path):
    x = np.arange(12)
    panels = {name: (x, x * 1.0, {"lstm": x + 0.5, "persistence": x - 1.0}) for name in ("AAPL", "GOOG")}
    assert_fits_the_page(plots.forecasts(panels, tmp_path / "forecast.png"))
    tags = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT"]
    scores = {name: {tag: 0.5 for tag in tags} for name in MODELS}
    figure = plots.per_type_scores(scores, tmp_path / "types.png")
    assert_fits_the_page(figure)
    assert_x_labels_apart(figure.axes[0], drawn(figure))
