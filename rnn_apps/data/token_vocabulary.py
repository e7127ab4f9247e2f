"""Word and character vocabularies of tagged sentences, and their id encoding.

Ids follow `keras.layers.StringLookup` with ``mask_token=""``: 0 is padding,
1 out-of-vocabulary, then the vocabulary from 2, so ids made here for
training and the lookups inside a saved model agree. `TaggingVocabulary`
holds the vocabularies a tagger reads its sentences through.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from rnn_apps.data import tokenization


def build_vocabulary(token_lists, min_count: int = 1, max_size: int | None = None) -> list[str]:
    """Items seen at least ``min_count`` times, most frequent first (ties: first seen).

    Ids follow `keras.layers.StringLookup` with ``mask_token=""``: 0 is
    padding, 1 out-of-vocabulary, then this list from 2.

    Examples:
        >>> build_vocabulary([["a", "b", "a"], ["c", "a", "b"]], min_count=2)
        ['a', 'b']
    """
    counts = collections.Counter(item for items in token_lists for item in items)
    ranked = [item for item, count in counts.most_common() if count >= min_count and item != ""]
    return ranked[:max_size] if max_size else ranked


def encode(token_lists, vocabulary, char_length: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Word ids (and character ids) per sentence, as `StringLookup` would give them.

    Args:
        token_lists: one list of tokens per sentence.
        vocabulary: ``(words, chars)``; ``chars`` may be `None`.
        char_length: characters per token (with ``chars``).

    Returns:
        ``(word_ids, char_ids)``: lists of ``(time,)`` and
            ``(time, char_length)`` int32 arrays (``char_ids`` is `None` without
            characters).

    Examples:
        >>> words, chars = encode([["the", "cat"]], (["the"], ["t", "h"]), char_length=2)
        >>> words[0].tolist(), chars[0].tolist()
        ([2, 1], [[2, 3], [1, 1]])
    """
    words, chars = vocabulary
    word_index = {word: i + 2 for i, word in enumerate(words)}
    word_ids = [np.array([word_index.get(token, 1) for token in tokens], dtype="int32") for tokens in token_lists]
    if not chars or not char_length:
        return word_ids, None
    char_index = {char: i + 2 for i, char in enumerate(chars)}
    char_index[""] = 0
    char_ids = [
        np.array(
            [[char_index.get(c, 1) for c in tokenization.characters(token, char_length)] for token in tokens],
            dtype="int32",
        )
        for tokens in token_lists
    ]
    return word_ids, char_ids


def word_forms(token_lists, lowercase: bool = False):
    """Tokens as a tagger's word lookup sees them: lower-cased A-Z with ``lowercase``, else unchanged.

    Examples:
        >>> word_forms([["Anna", "ÉTÉ"]], lowercase=True)
        [['anna', 'ÉtÉ']]
    """
    if not lowercase:
        return token_lists
    return [[tokenization.lower_ascii(token) for token in tokens] for tokens in token_lists]


@dataclasses.dataclass
class TaggingVocabulary:
    """The word (and character) vocabularies a tagger reads its sentences through.

    Attributes:
        words: the word vocabulary, most frequent first (without padding and
            unknown), lower-cased A-Z when ``lowercase``.
        chars: the character vocabulary, or `None` without character features.
        char_length: characters kept per word, or `None`.
        lowercase: words are looked up lower-cased (the characters keep their case).

    Examples:
        >>> vocabulary = TaggingVocabulary.from_sentences([["Anna", "sang"], ["anna"]], lowercase=True, char_length=9)
        >>> vocabulary.words, vocabulary.char_length, vocabulary.vocabulary_size, vocabulary.char_vocabulary_size
        (['anna', 'sang'], 4, 4, 7)
        >>> word_ids, char_ids = vocabulary.encode([["ANNA", "wept"]])
        >>> word_ids[0].tolist(), char_ids[0].shape
        ([2, 1], (2, 4))
    """

    words: list[str]
    chars: list[str] | None = None
    char_length: int | None = None
    lowercase: bool = False

    @classmethod
    def from_sentences(
        cls,
        token_lists,
        min_count: int = 1,
        max_size: int | None = None,
        lowercase: bool = False,
        char_length: int | None = None,
    ) -> TaggingVocabulary:
        """The vocabularies of the training sentences.

        Args:
            token_lists: one list of tokens per training sentence.
            min_count: words seen fewer times share the unknown-word id.
            max_size: most words kept (the most frequent).
            lowercase: one word for all casings (A-Z).
            char_length: characters kept per word, capped at the longest
                training word; `None` leaves character features out.
        """
        words = build_vocabulary(word_forms(token_lists, lowercase), min_count=min_count, max_size=max_size)
        if not char_length:
            return cls(words, lowercase=lowercase)
        longest = max(len(token) for tokens in token_lists for token in tokens)
        chars = build_vocabulary([list(token) for tokens in token_lists for token in tokens])
        return cls(words, chars, min(char_length, longest), lowercase)

    @property
    def vocabulary_size(self) -> int:
        """Word ids, padding (0) and unknown (1) included."""
        return len(self.words) + 2

    @property
    def char_vocabulary_size(self) -> int | None:
        """Character ids, padding and unknown included; `None` without characters."""
        return len(self.chars) + 2 if self.chars else None

    def encode(self, token_lists) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Word ids (and character ids) per sentence, as the saved model's lookups give them (see `encode`)."""
        word_ids, _ = encode(word_forms(token_lists, self.lowercase), (self.words, None))
        _, char_ids = encode(token_lists, ([], self.chars), self.char_length)
        return word_ids, char_ids
