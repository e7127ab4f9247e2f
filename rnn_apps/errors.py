"""Errors that name what was expected and what came in.

Every user-facing check in `rnn_apps` raises `InputError`, a `ValueError`
subclass, so library callers can catch `ValueError` while the command line
turns exactly these errors into one message and exit status 2 (anything else
is a bug and keeps its traceback).
"""


class InputError(ValueError):
    """Bad input from a user: a flag, a file, a column, a value out of range."""


def expected(what: str, received: object, name: str | None = None) -> InputError:
    """Build an `InputError` in the Keras message style.

    Args:
        what: description of what was expected, e.g. ``"a positive integer"``.
        received: the value that came in.
        name: optional argument name shown as ``name=value``.

    Returns:
        An `InputError` (not raised, so callers write ``raise expected(...)``).

    Examples:
        >>> str(expected("one of ['lstm', 'gru']", "lsmt", name="cell"))
        "Expected cell to be one of ['lstm', 'gru']. Received: cell='lsmt'"
    """
    if name is None:
        return InputError(f"Expected {what}. Received: {received!r}")
    return InputError(f"Expected {name} to be {what}. Received: {name}={received!r}")


def check_choice(value: str, choices, name: str) -> str:
    """Return ``value`` if it is in ``choices``, else raise `InputError`.

    Examples:
        >>> check_choice("gru", ("lstm", "gru"), "cell")
        'gru'
    """
    if value not in choices:
        raise expected(f"one of {list(choices)}", value, name=name)
    return value


def check_positive(value, name: str, allow_zero: bool = False):
    """Return ``value`` if it is a positive number (or zero when allowed).

    Examples:
        >>> check_positive(3, "units")
        3
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and (value > 0 or (allow_zero and value == 0)):
        return value
    kind = "a non-negative number" if allow_zero else "a positive number"
    raise expected(kind, value, name=name)


def check_fraction(value, name: str, low_inclusive: bool = True) -> float:
    """Return ``value`` if it lies in [0, 1) (dropout rates, split fractions).

    Examples:
        >>> check_fraction(0.25, "dropout")
        0.25
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and (0 <= value < 1) and (low_inclusive or value > 0):
        return float(value)
    interval = "[0, 1)" if low_inclusive else "(0, 1)"
    raise expected(f"a number in {interval}", value, name=name)


def read_json(path, keys=(), what: str = "the .json file saved beside the model") -> dict:
    """Read a JSON object from ``path``; raise `InputError` if it is unreadable or lacks ``keys``.

    Examples:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
        >>> _ = path.write_text('{"class_names": ["neg", "pos"]}')
        >>> read_json(path, keys=("class_names",))
        {'class_names': ['neg', 'pos']}
        >>> _ = path.write_text("{not json")
        >>> try:
        ...     read_json(path)
        ... except InputError as error:
        ...     print(str(error)[:52])
        Expected the .json file saved beside the model. Rece
    """
    import json
    import pathlib

    path = pathlib.Path(path)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise expected(what, f"{path} ({type(error).__name__}: {error})") from None
    if not isinstance(content, dict):
        raise expected(what, f"{path} (a JSON {type(content).__name__}, not an object)")
    missing = [key for key in keys if key not in content]
    if missing:
        raise expected(f"{what} with the keys {list(keys)}", f"{path} without {missing}")
    return content


def check_model_inputs(model, path, ranks, dtype: str | None = None, names=None, last_dims=None) -> None:
    """Raise `InputError` unless ``model`` takes the inputs a recipe's saved models take.

    A model saved by another recipe (or any other Keras model) would
    otherwise fail deep inside the backend with a shape or dtype error.

    Args:
        model: the loaded Keras model.
        path: its file, for the message.
        ranks: the rank of each input, batch axis included (in any order).
        dtype: the dtype every input must have (``"string"``, or a float
            kind as ``"float"``), or `None` for any.
        names: the set of input names, or `None` for any.
        last_dims: the size of each input's last axis (`None` entries:
            any), or `None` for any.

    Examples:
        >>> import keras
        >>> text = keras.Input(shape=(), dtype="string", name="text")
        >>> model = keras.Model(text, keras.layers.StringLookup(vocabulary=["a"])(text))
        >>> check_model_inputs(model, "m.keras", ranks=(1,), dtype="string")
        >>> try:
        ...     check_model_inputs(model, "m.keras", ranks=(3,), dtype="float")
        ... except InputError as error:
        ...     print(str(error).split(". Received: ")[1])
        "m.keras with inputs [('text', 'string', (None,))]"
    """
    inputs = list(getattr(model, "inputs", None) or [])
    have = [(tensor.name, str(tensor.dtype), tuple(tensor.shape)) for tensor in inputs]
    ok = sorted(len(shape) for _, _, shape in have) == sorted(ranks)
    if ok and dtype is not None:
        ok = all(kind == dtype or (dtype == "float" and kind.startswith("float")) for _, kind, _ in have)
    if ok and names is not None:
        ok = {name for name, _, _ in have} == set(names)
    if ok and last_dims is not None:
        ok = all(want is None or shape[-1] == want for (_, _, shape), want in zip(have, last_dims))
    if not ok:
        wanted = f"{len(ranks)} input(s) of rank {tuple(ranks)}" + (f", {dtype}" if dtype else "")
        if last_dims is not None:
            wanted += f", last axis {tuple(last_dims)}"
        raise expected(
            f"a .keras model saved by this recipe, taking {wanted}",
            f"{path} with inputs {[(name, kind, shape) for name, kind, shape in have]}",
        )
