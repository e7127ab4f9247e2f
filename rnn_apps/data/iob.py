"""IOB entity tags: recognising a tag set, repairing transitions to IOB2, reading entity spans.

Entity tags in IOB2 mark the first token of an entity ``B-TYPE``, its other
tokens ``I-TYPE`` and every other token ``O`` (``B-PER I-PER O B-LOC``).
IOB1 files (such as the original CoNLL-2003) and faulty files have ``I-X``
tags that do not continue an entity of type ``X``; `repair_iob` turns them
into ``B-X``.
"""

from __future__ import annotations

import re

OUTSIDE = "O"
IOB_TAG = re.compile(r"^(?:O|[BI]-.+)$")


def is_iob(tag_names) -> bool:
    """Whether every tag is ``O``, ``B-TYPE`` or ``I-TYPE`` (an entity tag set).

    Examples:
        >>> is_iob(["O", "B-PER", "I-PER"]), is_iob(["NOUN", "VERB"])
        (True, False)
    """
    tag_names = list(tag_names)
    return bool(tag_names) and all(IOB_TAG.match(tag) for tag in tag_names)


def repair_iob(tags) -> tuple[list[str], int]:
    """Turn invalid IOB transitions into valid IOB2; count the changes.

    An ``I-X`` that follows ``O``, the sentence start, or a tag of another
    type starts a new entity, so it becomes ``B-X`` (this also converts
    IOB1 to IOB2).

    Examples:
        >>> repair_iob(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"])
        (['O', 'B-PER', 'I-PER', 'B-LOC', 'B-LOC', 'I-LOC'], 2)
    """
    repaired, count, previous = [], 0, OUTSIDE
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
            count += 1
        repaired.append(tag)
        previous = tag
    return repaired, count


def entity_spans(tokens, tags) -> list[tuple[str, int, int, str]]:
    """Entities of an IOB2 tag sequence: ``(type, start, end, text)``, end exclusive.

    Read with seqeval, so spans match what the entity metrics count (an
    ``I-X`` without a ``B-X`` before it still starts an entity).

    Examples:
        >>> entity_spans(["Angela", "Merkel", "visited", "Paris"], ["B-PER", "I-PER", "O", "B-LOC"])
        [('PER', 0, 2, 'Angela Merkel'), ('LOC', 3, 4, 'Paris')]
    """
    from seqeval.metrics.sequence_labeling import get_entities

    return [(kind, start, end + 1, " ".join(tokens[start : end + 1])) for kind, start, end in get_entities(list(tags))]
