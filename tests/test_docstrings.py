"""The API reference docstrings parse as the pages show them (Google style, as mkdocstrings reads it).

griffe, the parser behind mkdocstrings, starts a new item in a "Returns" section at every line indented like
the first one, and reads a leading ``name:`` or ``(type):`` as the item's name or type. A description written
over several lines at one indent, or a tuple described part by part, turns into several fake return values;
a code span cut in two by such a split, or a backtick left open, shows up as literal backticks. These tests
parse every documented object of the modules with an API page and name each place that would render wrongly.
"""

import functools
import importlib.util
import logging
import re

import griffe
import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("docs_build", REPO / "docs" / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)

# An entry of "Args" or "Attributes" names one parameter, or several separated by commas ("train, validation").
ENTRY_NAME = re.compile(r"\*{0,2}\w+(, \w+)*")
EXCEPTION_NAME = re.compile(r"[\w.]+")
BACKTICKS = re.compile(r"`+")


def _documented(obj):
    """The object and every module, class, function or attribute defined (not imported) inside it."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _documented(member)


def _texts(section):
    """Every piece of prose in a parsed section, code examples left out."""
    if isinstance(section.value, str):
        yield section.value
        return
    for item in section.value if isinstance(section.value, list) else [section.value]:
        if isinstance(item, tuple):
            kind, text = item
            if kind.value == "text":
                yield text
        elif getattr(item, "description", None):
            yield item.description


def open_backticks(text: str) -> list[str]:
    """Backtick runs that close no code span (CommonMark shows them literally), with some context.

    >>> open_backticks("``(a, b)``: the pair; `x` and ``y``")
    []
    >>> open_backticks("``(batch, time, width)`` with ``width =")
    ['... with ``width =...']
    """
    runs = [(match.start(), len(match.group())) for match in BACKTICKS.finditer(text)]
    found = []
    index = 0
    while index < len(runs):
        start, length = runs[index]
        closing = next((later for later in range(index + 1, len(runs)) if runs[later][1] == length), None)
        if closing is None:
            found.append(f"...{text[max(0, start - 10) : start + 10]}...")
            index += 1
        else:
            index = closing + 1
    return found


@functools.cache
def _package():
    # Missing types are fine: mkdocstrings takes them from the signatures (docs/build.py turns the warning off).
    logging.getLogger("griffe").setLevel(logging.ERROR)
    return griffe.load("rnn_apps", docstring_parser="google", search_paths=[str(REPO)])


def problems(module: str) -> list[str]:
    """What would render wrongly in the API page of ``rnn_apps.<module>``."""
    found = []
    for obj in _documented(_package()[module]):
        if not obj.docstring:
            continue
        where = f"{obj.path} ({obj.relative_filepath}:{obj.docstring.lineno})"
        for section in obj.docstring.parse("google", warn_missing_types=False):
            kind = section.kind.value
            if kind in ("returns", "yields") and len(section.value) > 1:
                found.append(f"{where}: {kind} splits into {len(section.value)} values")
            if kind in ("parameters", "other parameters", "attributes"):
                found += [
                    f"{where}: {kind} entry {entry.name!r}"
                    for entry in section.value
                    if not ENTRY_NAME.fullmatch(entry.name)
                ]
            if kind in ("parameters", "other parameters") and (obj.is_function or obj.is_class):
                # A continuation line at the entry's own indent becomes an entry named after its first word.
                signature = {parameter.name for parameter in obj.parameters}
                found += [
                    f"{where}: {kind} entry {name!r} is not a parameter"
                    for entry in section.value
                    for name in entry.name.split(", ")
                    if name.lstrip("*") not in signature
                ]
            if kind == "raises":
                found += [
                    f"{where}: raises entry {str(entry.annotation)!r} is not an exception name"
                    for entry in section.value
                    if not EXCEPTION_NAME.fullmatch(str(entry.annotation))
                ]
            for text in _texts(section):
                found += [f"{where}: open backticks in {kind}: {context!r}" for context in open_backticks(text)]
    return found


@pytest.mark.parametrize("module", build.API_MODULES)
def test_api_docstrings_render_as_written(module):
    found = problems(module)
    assert not found, "\n".join(found)
