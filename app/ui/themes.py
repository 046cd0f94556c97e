"""Theme files (TOML) turned into Textual themes.

The shipped themes live in the repository's top-level ``themes/``; ``app/ui/themes`` is a link
to it so that installed copies (wheels follow the link) find them beside this module. Users add
their own in ``<config dir>/themes/``; a file there with a shipped theme's name replaces it.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from textual.theme import Theme

from app import paths

DEFAULT_THEME = "replydesk-dark"
SHIPPED_DIR = Path(__file__).with_name("themes")

VARIABLE_DEFAULTS = {
    "badge-interested": "ansi_bright_green",
    "badge-meeting": "ansi_bright_blue",
    "badge-not-interested": "ansi_white",
    "badge-unsubscribe": "ansi_bright_red",
    "badge-wrong-person": "ansi_magenta",
    "badge-out-of-office": "ansi_yellow",
    "badge-bounce": "ansi_red",
    "badge-auto-reply": "ansi_white",
    "badge-uncategorized": "ansi_white",
}
"""Colours of replydesk's own variables for themes that do not set them (Textual's built-ins)."""

_FIELDS = {f.name for f in dataclasses.fields(Theme)}


def theme_dirs() -> list[Path]:
    return [SHIPPED_DIR, paths.config_dir() / "themes"]


def load_theme_file(path: Path) -> Theme:
    """One theme file; ValueError names the file and the problem."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read theme: {exc}") from None
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown theme key {unknown[0]!r}")
    data.setdefault("name", path.stem)
    if "primary" not in data:
        raise ValueError(f"{path}: theme needs a 'primary' colour")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError(f"{path}: [variables] must map names to colour strings")
    return Theme(**data)


def load_themes(dirs: list[Path] | None = None) -> tuple[list[Theme], list[str]]:
    """Every readable theme in ``dirs`` (later directories win by name), and the problems met."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in theme_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
