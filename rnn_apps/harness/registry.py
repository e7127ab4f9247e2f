"""Where the command line finds recipes: the ``rnn_apps.recipes`` entry-point group.

A recipe is registered by the package that ships it, in its ``pyproject.toml``::

    [project.entry-points."rnn_apps.recipes"]
    sentiment = "recipes.sentiment:RECIPE"

so the library never names a recipe module, and another package can add
recipes of its own without touching this one. Loading an entry point imports
only the recipe asked for; the names come in the order they are declared.
"""

from __future__ import annotations

import functools
from importlib import metadata

from rnn_apps import errors

GROUP = "rnn_apps.recipes"


@functools.cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {entry.name: entry for entry in metadata.entry_points(group=GROUP)}


@functools.cache
def get(name: str):
    """The registered recipe called ``name`` (a `rnn_apps.harness.recipe.Recipe`).

    Raises:
        rnn_apps.errors.InputError: no recipe has that name.
    """
    entries = _entry_points()
    if name not in entries:
        raise errors.expected(f"a recipe, one of {list(names())}", name, name="recipe")
    return entries[name].load()


@functools.cache
def names() -> tuple[str, ...]:
    """Registered recipe names, in the order ``rnn-apps list`` and ``compare --all`` use (as declared)."""
    return tuple(_entry_points())
