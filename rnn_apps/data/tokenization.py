"""Tokenization of raw text, and the raw-string inputs of a saved tagger.

Tokenization of raw text happens in one place, `tokenize`, and the saved
models take its output through `model_inputs`, so training data (already
tokenized) and prediction meet at the same token format. `lower_ascii` and
`characters` give the word and character forms that the models' lookups
see.
"""

from __future__ import annotations

import re

import numpy as np

_TOKEN = re.compile(
    r"""
    (?:\b[A-Z]\.)+(?=\s|$)                # initials and abbreviations: "J.", "U.S."
    | \d+(?:[.,:]\d+)*                     # numbers: 1968, 3.5, 12:30, 20,000
    | \w+(?:[-'’]\w+)*                     # words, with inner hyphens or apostrophes
    | [^\w\s]                              # any other single character: punctuation
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[str]:
    """Split raw text into tokens the way the tagging corpora do.

    Words (with inner hyphens and apostrophes: ``well-known``, ``O'Neil``)
    and numbers (``3.5``, ``20,000``) are tokens; every other non-space
    character is a token of its own, so punctuation is split off as in
    CoNLL and WikiANN. A single capital followed by a dot is kept whole
    (``J.``), as initials are in the corpora. Used by ``rnn-apps predict``
    and by the bundled-sample generator.

    Args:
        text: a raw sentence.

    Returns:
        The tokens, in order; an empty list for blank text.

    Examples:
        >>> tokenize("Angela Merkel visited Paris.")
        ['Angela', 'Merkel', 'visited', 'Paris', '.']
        >>> tokenize("J. K. Rowling's well-known book (1997) sold 20,000 copies in the U.S. too!")[:10]
        ['J.', 'K.', "Rowling's", 'well-known', 'book', '(', '1997', ')', 'sold', '20,000']
        >>> tokenize("in the U.S. too!")
        ['in', 'the', 'U.S.', 'too', '!']
    """
    return _TOKEN.findall(str(text))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lower_ascii(token: str) -> str:
    """Lower-case A-Z only, exactly as `keras.layers.TextVectorization(standardize="lower")` does.

    Examples:
        >>> lower_ascii("ÉCOLE Paris")
        'École paris'
    """
    return token.translate(_ASCII_LOWER)


def characters(token: str, char_length: int) -> list[str]:
    """A token's first ``char_length`` characters, padded with empty strings.

    Examples:
        >>> characters("Paris", 7)
        ['P', 'a', 'r', 'i', 's', '', '']
    """
    chars = list(token[:char_length])
    return chars + [""] * (char_length - len(chars))


def model_inputs(token_lists, char_length: int | None = None) -> dict[str, np.ndarray]:
    """The raw-string inputs of a saved tagger for a batch of tokenized sentences.

    Sentences are right-padded with empty strings to the longest one;
    with ``char_length`` each token is also split into characters (see
    `characters`).

    Args:
        token_lists: one list of tokens per sentence.
        char_length: characters kept per token, or `None` for a model without
            character features.

    Returns:
        ``{"tokens": (batch, time)}`` string array, plus ``"characters"``
            ``(batch, time, char_length)`` when ``char_length`` is given.

    Examples:
        >>> inputs = model_inputs([["Hi", "!"], ["Bye"]], char_length=2)
        >>> inputs["tokens"].tolist(), inputs["characters"].shape
        ([['Hi', '!'], ['Bye', '']], (2, 2, 2))
    """
    token_lists = [list(tokens) for tokens in token_lists]
    longest = max((len(tokens) for tokens in token_lists), default=0)
    tokens = np.full((len(token_lists), max(longest, 1)), "", dtype=object)
    for row, sentence in enumerate(token_lists):
        tokens[row, : len(sentence)] = sentence
    inputs = {"tokens": tokens}
    if char_length:
        chars = np.full(tokens.shape + (char_length,), "", dtype=object)
        for row, sentence in enumerate(token_lists):
            for column, token in enumerate(sentence):
                chars[row, column] = characters(token, char_length)
        inputs["characters"] = chars
    return inputs
