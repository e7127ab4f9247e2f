"""Where the command line finds recipes: the ``rnn_apps.recipes`` entry-point group.

A recipe is registered by the package that ships it, in its ``pyproject.toml``::

    [project.entry-points."rnn_apps.recipes"]
    sentiment = "recipes.sentiment:RECIPE"

so the library never names a recipe module, and another package can add
recipes of its own without touching this one. Loading an entry point imports
only the recipe asked for; the names come in the order they are declared.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import pathlib
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


CONFIG_GROUP = "rnn_apps.recipe_configs"
"""Entry points naming each recipe's configuration class, in a module that imports no Keras."""


@functools.cache
def config_class(name: str):
    """The configuration class of recipe ``name``, without importing the recipe when possible.

    A recipe that registers its configuration under `CONFIG_GROUP` (in a
    module free of Keras and TensorFlow) has its flags checked before either
    starts; for any other, the recipe itself is loaded.

    Raises:
        rnn_apps.errors.InputError: no recipe has that name.
    """
    if name not in _entry_points():
        get(name)  # raises the error that names the recipes
    configs = {entry.name: entry for entry in metadata.entry_points(group=CONFIG_GROUP)}
    if name in configs:
        return configs[name].load()
    return get(name).config_class


@functools.cache
def summary(name: str) -> str:
    """The title of recipe ``name`` (its module docstring's first line), read without importing it.

    Examples:
        >>> summary("sentiment")
        'Sentiment analysis: recurrent networks against a sentence CNN'
    """
    entry = _entry_points()[name]
    spec = importlib.util.find_spec(entry.module)
    source = pathlib.Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    return title(ast.get_docstring(ast.parse(source)), name)


def title(docstring: str | None, fallback: str) -> str:
    """A recipe's title: the first line of its module docstring, without ``Title:``; ``fallback`` if none.

    Examples:
        >>> title("Title: Sentiment analysis", "sentiment"), title(None, "sentiment")
        ('Sentiment analysis', 'sentiment')
    """
    text = (docstring or "").strip()
    return text.splitlines()[0].removeprefix("Title:").strip() if text else fallback
