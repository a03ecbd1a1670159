"""The files the lab writes, as real files beside this module: ``router-init.sh`` as it is, the others
rendered with :class:`string.Template` (``${name}`` placeholders)."""

from __future__ import annotations

from importlib.resources import files
from string import Template


def text(name: str) -> str:
    """A template file's text, unrendered."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def render(template: str, /, **values: object) -> str:
    """A template file with every ``${key}`` replaced (a missing key raises KeyError)."""
    return Template(text(template)).substitute(values)
