"""Reader for the UEA/UCR ``.ts`` time-series format, shared by several recipes.

The UEA multivariate archive (JapaneseVowels, NATOPS, ...) ships each split as
one ``.ts`` text file: ``#`` comment lines, ``@key value`` header lines, then
``@data`` and one series per line. A line holds one field per channel,
separated by ``:``; each field is a comma-separated list of values (``?`` or
``NaN`` for a missing value), and the last field is the class label when the
header says ``@classLabel true ...``. Series may differ in length, and the
channels of one series may too when values at the end are left out.

`read_ts` returns the series as they are (a list of ``(time, channels)``
arrays); `load_ts` returns one right-padded float32 array, which is what a
Keras model with a ``Masking`` layer takes. Both are used by the speech recipe
(JapaneseVowels) and the video recipe (NATOPS), so keep them general: no
assumption about a particular data set lives here. Timestamped series
(``@timeStamps true``) are not supported.

Examples:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "toy_TRAIN.ts"
    >>> _ = path.write_text(
    ...     "# a comment\\n@problemName toy\\n@timeStamps false\\n@missing true\\n"
    ...     "@univariate false\\n@dimensions 2\\n@equalLength false\\n@classLabel true a b\\n@data\\n"
    ...     "1,2,3:4,?,6:a\\n7,8:9,10:b\\n"
    ... )
    >>> series, labels = load_ts(path)
    >>> series.shape, series.dtype.name, labels
    ((2, 3, 2), 'float32', ['a', 'b'])
    >>> series[0].tolist()
    [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    >>> series[1, 2].tolist()
    [0.0, 0.0]
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib

import numpy as np

from rnn_apps import errors
from rnn_apps.data import text_files

MISSING = ("?", "nan", "NaN", "")


@dataclasses.dataclass
class TsFile:
    """The content of one ``.ts`` file.

    Attributes:
        series: one float32 array ``(time, channels)`` per series, with
            missing values filled (see `read_ts`); lengths may differ.
        labels: class label of each series, as written in the file (`None`
            entries when the file has no labels).
        class_names: labels declared by ``@classLabel true ...`` (in header
            order), or the sorted labels found when none are declared.
        header: the ``@key value`` header lines, keys lower-cased.
    """

    series: list[np.ndarray]
    labels: list[str | None]
    class_names: list[str]
    header: dict[str, str]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.series], dtype="int64")

    @property
    def num_channels(self) -> int:
        return self.series[0].shape[1] if self.series else 0


def _fill_missing(values: np.ndarray) -> np.ndarray:
    """Fill NaNs of one channel by linear interpolation; ends take the nearest value.

    Examples:
        >>> _fill_missing(np.array([np.nan, 1.0, np.nan, 3.0, np.nan])).tolist()
        [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    missing = np.isnan(values)
    if not missing.any():
        return values
    if missing.all():
        return np.zeros_like(values)
    steps = np.arange(len(values))
    values = values.copy()
    values[missing] = np.interp(steps[missing], steps[~missing], values[~missing])
    return values


def _parse_field(text: str, path, line_number: int) -> np.ndarray:
    values = []
    for token in text.split(","):
        token = token.strip()
        if token in MISSING:
            values.append(math.nan)
            continue
        try:
            values.append(float(token))
        except ValueError:
            raise errors.expected(
                "comma-separated numbers (or '?') in every channel", f"{token!r} on line {line_number} of {path}"
            ) from None
    return np.asarray(values, dtype="float64")


def read_ts(path: str | os.PathLike, encoding: str = text_files.DEFAULT_ENCODING) -> TsFile:
    """Read a ``.ts`` file into variable-length series and labels.

    Missing values (``?``, ``NaN``) inside a channel are filled by linear
    interpolation over time; a channel cut short (trailing values left out,
    as some UEA files do) is padded with its last value up to the longest
    channel of that series; a channel with no value at all becomes zeros.

    Args:
        path: a ``.ts`` file.
        encoding: the file's codec (``--encoding``; byte-order marks are
            ignored).

    Returns:
        A `TsFile`.

    Raises:
        InputError: the file is missing or does not decode with
            ``encoding``, has no ``@data`` section, holds no
            series, has series whose channel counts differ, or a label that
            ``@classLabel`` does not declare.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise errors.expected("an existing .ts file", str(path), name="path")
    header: dict[str, str] = {}
    series, labels = [], []
    in_data = False
    content = text_files.read_bytes(path)
    if b"\0" in content[:4096] and b"\0" not in "@data".encode(encoding):
        # Binary data (a WAV clip, an archive), or text in a codec with zero bytes (UTF-16) read as another.
        raise errors.expected(
            f"a .ts file with an @data section, text in {encoding} (zero bytes mean binary data, or UTF-16 or "
            "UTF-32 text: give its --encoding)",
            str(path),
            name="path",
        )
    lines = text_files.split_lines(text_files.decode(content, encoding, path.name))
    for line_number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower() == "@data":
                in_data = True
            elif line.startswith("@"):
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip()
            continue
        has_label = header.get("classlabel", "false").split(" ")[0].lower() == "true"
        fields = line.split(":")
        label = fields.pop().strip() if has_label else None
        channels = [_parse_field(field, path, line_number) for field in fields]
        if not channels:
            raise errors.expected("at least one channel per series", f"line {line_number} of {path}")
        length = max(len(channel) for channel in channels)
        padded = []
        for channel in channels:
            channel = _fill_missing(channel)
            if len(channel) < length:
                tail = channel[-1] if len(channel) else 0.0
                channel = np.concatenate([channel, np.full(length - len(channel), tail)])
            padded.append(channel)
        series.append(np.stack(padded, axis=1).astype("float32"))
        labels.append(label)
    if not in_data:
        raise errors.expected("a .ts file with an @data section", str(path), name="path")
    if not series:
        raise errors.expected("at least one series after @data", f"none in {path}")
    widths = sorted({s.shape[1] for s in series})
    if len(widths) > 1:
        raise errors.expected("the same number of channels in every series", f"{widths} in {path}")
    declared = header.get("classlabel", "").split()[1:]
    if declared and header["classlabel"].split()[0].lower() == "true":
        unknown = sorted({label for label in labels if label not in declared})
        if unknown:
            raise errors.expected(f"labels declared by @classLabel {declared}", f"{unknown[:5]} in {path}")
        class_names = declared
    else:
        class_names = sorted({label for label in labels if label is not None})
    return TsFile(series, labels, class_names, header)


def pad_series(series: list[np.ndarray], pad_value: float = 0.0, length: int | None = None) -> np.ndarray:
    """Right-pad variable-length ``(time, channels)`` arrays into one array.

    Args:
        series: arrays with the same channel count.
        pad_value: value of the padded steps (a ``Masking`` layer's
            ``mask_value``).
        length: pad or cut to this many steps; defaults to the longest.

    Returns:
        float32 ``(n, length, channels)``.

    Examples:
        >>> pad_series([np.ones((2, 1)), np.ones((3, 1))], pad_value=-1.0)[0, :, 0].tolist()
        [1.0, 1.0, -1.0]
    """
    if not len(series):
        raise errors.expected("at least one series to pad", "none")
    length = length or max(len(s) for s in series)
    channels = series[0].shape[1]
    output = np.full((len(series), length, channels), pad_value, dtype="float32")
    for row, values in enumerate(series):
        values = values[:length]
        output[row, : len(values)] = values
    return output


def load_ts(
    path: str | os.PathLike, pad_value: float = 0.0, encoding: str = text_files.DEFAULT_ENCODING
) -> tuple[np.ndarray, list[str]]:
    """Read a ``.ts`` file as one right-padded array and its labels.

    Args:
        path: a ``.ts`` file (with labels).
        pad_value: value of the steps after each series' end; no NaN is
            left in the array.
        encoding: the file's codec, as for `read_ts`.

    Returns:
        ``(series, labels)``: float32 ``(n, time, channels)``, ``time`` the
            longest series, and one label string per series.
    """
    content = read_ts(path, encoding)
    if any(label is None for label in content.labels):
        raise errors.expected("a .ts file with class labels (@classLabel true ...)", str(path), name="path")
    return pad_series(content.series, pad_value), list(content.labels)
