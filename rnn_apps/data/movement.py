"""Up/down movement samples: next-step labels with a dead zone, pooled over series.

The classification task of price series: will the next price be up or down?
`movement_labels` turns simple returns into labels, leaving out the small
moves of a dead zone (as in the StockNet protocol), and `prepare_movement`
builds the samples of every series with the leak-free windows and the
training-only scaler of `rnn_apps.data.windows`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnn_apps import errors
from rnn_apps.data import time_splits, windows


@dataclasses.dataclass
class MovementData:
    """Up/down classification samples of every series, pooled.

    Attributes:
        train: the training `Windows`: raw price windows
            ``(samples, window, 1)`` and labels (1 up, 0 down).
        validation: the validation `Windows`, as ``train``.
        test: the test `Windows`, as ``train``.
        input_scaler: statistics of the one-step log-returns of the
            training rows of all series.
        window: prices per input window.
    """

    train: windows.Windows
    validation: windows.Windows
    test: windows.Windows
    input_scaler: windows.Scaler
    window: int

    def parts(self) -> dict[str, windows.Windows]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def sizes(self) -> dict[str, int]:
        return {name: len(part) for name, part in self.parts().items()}


def movement_labels(returns: np.ndarray, up: float = 0.0055, down: float = -0.005) -> np.ndarray:
    """1 for a simple return above ``up``, 0 below ``down``, -1 in the dead zone (dropped).

    Examples:
        >>> movement_labels(np.array([0.01, 0.0, -0.02, 0.0055])).tolist()
        [1, -1, 0, -1]
    """
    returns = np.asarray(returns, dtype="float64")
    labels = np.full(returns.shape, -1, dtype="int64")
    labels[returns > up] = 1
    labels[returns < down] = 0
    return labels


def prepare_movement(
    prices, split: time_splits.Split, window: int, up: float = 0.0055, down: float = -0.005, history: str = "past"
) -> MovementData:
    """Next-step up/down samples with a dead zone, pooled over series.

    The label of origin ``t`` is the simple return from row ``t`` to row
    ``t + 1`` (up above ``up``, down below ``down``; moves in between are
    dropped, as in the StockNet protocol). Samples belong to the part of
    their target row.

    Returns:
        `MovementData`; the return scaler saw training rows only.
    """
    if not down < up:
        raise errors.expected("down threshold below the up threshold", (down, up), name="dead zone")
    if window < 2:
        raise errors.expected("at least 2 prices per window", window, name="window")
    values = np.asarray(prices, dtype="float64")
    if values.ndim == 1:
        values = values[:, None]
    parts = {}
    for name, part in split.parts().items():
        pieces = []
        for index in range(values.shape[1]):
            column = values[:, [index]]
            piece = windows.part_windows(column, part, window, 1, history, "last")
            moves = piece.targets[:, 0, 0] / piece.inputs[:, -1, 0] - 1.0
            labels = movement_labels(moves, up, down)
            keep = labels >= 0
            pieces.append(
                windows.Windows(
                    piece.inputs[keep],
                    labels[keep],
                    piece.origins[keep],
                    piece.target_rows[keep],
                    np.full(int(keep.sum()), index, dtype="int64"),
                )
            )
        parts[name] = windows.concatenate(pieces)
    windows.check_sizes(parts, window, 1, len(values))
    # One return scaler for all series: stack them as one column.
    returns = np.concatenate([windows.log_returns(values[:, [i]]) for i in range(values.shape[1])], axis=0)
    scaler = windows.fit_scaler(returns, windows.stacked_rows(split.train, values.shape[1], len(values)))
    return MovementData(
        parts["train"], parts["validation"], parts["test"], windows.Scaler.from_sklearn(scaler, (1,)), window
    )
