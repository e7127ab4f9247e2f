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
