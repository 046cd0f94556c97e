"""Edit the config file as text, so the user's comments and layout survive.

New accounts are appended as ``[[accounts]]`` tables; removing one cuts out only its block; a
``[general]`` setting (the theme picked in the UI, a warmup tag accepted there) replaces its one
line.
Every edit is checked by parsing the whole result before the file is replaced (atomically),
so a failed edit leaves the file as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from app import config_cache, paths
from app.config import Config, parse_config
from app.errors import ConfigError


def config_path(explicit: str | None) -> Path:
    return Path(explicit).expanduser() if explicit else paths.default_config_path()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # a JSON string is a valid TOML basic string (same escapes)
    return json.dumps(str(value), ensure_ascii=False)


def render_account(table: dict[str, Any]) -> str:
    """One ``[[accounts]]`` table; nested dicts (imap, smtp, oauth, folders) become sub-tables."""
    lines = ["[[accounts]]"]
    subs = {k: v for k, v in table.items() if isinstance(v, dict)}
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict) and v is not None]
    for name, sub in subs.items():
        values = [f"  {k} = {_toml_value(v)}" for k, v in sub.items() if v is not None]
        if values:
            lines += [f"  [accounts.{name}]", *values]
    return "\n".join(lines) + "\n"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None


def _toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def check(path: Path, text: str) -> Config:
    """The validated config of ``text`` (the content of ``path``): from the cache of validated
    configs when this text was validated before (app.config_cache)."""
    raw = text.encode("utf-8")
    config = config_cache.read(path, raw)
    if config is None:
        config = parse_config(_toml(path, text), path)
        config_cache.write(path, raw, config)
    return config


def _write(path: Path, text: str) -> None:
    try:
        _replace(path, text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write config: {exc.strerror or exc}") from None


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def with_accounts(path: Path, tables: list[dict[str, Any]]) -> tuple[str, Config]:
    """The config text with ``tables`` appended, and the parsed result (raises ConfigError)."""
    text = read_text(path)
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join("\n" + render_account(t) for t in tables)
    return text, check(path, text)


def append_accounts(path: Path, tables: list[dict[str, Any]]) -> Config:
    """Append every table in one write."""
    text, config = with_accounts(path, tables)
    _write(path, text)
    return config


def _block_ranges(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of each ``[[accounts]]`` block with its sub-tables."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate(lines):
        head = line.strip()
        if not head.startswith("["):
            continue
        if start is not None and not head.startswith("[accounts."):
            ranges.append((start, i))
            start = None
        if head.replace(" ", "").startswith("[[accounts]]"):
            start = i
    if start is not None:
        ranges.append((start, len(lines)))
    # comments and blank lines just above the next header belong to what follows
    trimmed = []
    for start, end in ranges:
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        trimmed.append((start, end))
    return trimmed


def remove_account(path: Path, account_id: str) -> Config:
    """Cut the ``[[accounts]]`` block of ``account_id`` (id or email) out of the file."""
    text = read_text(path)
    lines = text.splitlines(keepends=True)
    for start, end in _block_ranges(lines):
        try:
            block = tomllib.loads("".join(lines[start:end]))["accounts"][0]
        except (tomllib.TOMLDecodeError, KeyError, IndexError):
            continue
        if account_id in (block.get("id"), block.get("email")):
            new_text = "".join(lines[:start] + lines[end:])
            config = check(path, new_text)
            _write(path, new_text)
            return config
    raise ConfigError(f"no account {account_id!r} in {path}")


def set_general(path: Path, key: str, value: Any) -> Config:
    """Set ``[general] key = value``: the key's line is replaced, or added under ``[general]``
    (made at the top when missing). Refused, with the file untouched, when the result would
    differ from the old config in anything but that key (a layout this edit cannot read)."""
    text = read_text(path)
    old = _toml(path, text)
    lines = text.splitlines(keepends=True)
    line = f"{key} = {_toml_value(value)}\n"
    header = next((i for i, raw in enumerate(lines) if _header(raw) == "[general]"), None)
    if header is None:
        new_lines = ["[general]\n", line, "\n", *lines]
    else:
        end = next((i for i in range(header + 1, len(lines)) if _header(lines[i])), len(lines))
        found = next((i for i in range(header + 1, end)
                      if lines[i].split("=", 1)[0].strip() == key and "=" in lines[i]), None)
        if found is None:
            new_lines = [*lines[:header + 1], line, *lines[header + 1:]]
        else:
            new_lines = [*lines[:found], line, *lines[found + 1:]]
    new_text = "".join(new_lines)
    expected = {**old, "general": {**old.get("general", {}), key: value}}
    try:
        new: dict[str, Any] | None = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        new = None
    if new is None or new != expected:
        raise ConfigError(f"{path}: cannot set general.{key} here; set it by hand")
    config = parse_config(new, path)
    _write(path, new_text)
    return config


def _header(line: str) -> str | None:
    """``[table]`` or ``[[array]]`` when the line opens one (comment and spaces dropped)."""
    head = line.split("#", 1)[0].strip().replace(" ", "")
    return head if head.startswith("[") and head.endswith("]") else None


def add_warmup_tag(path: Path, tag: str) -> Config:
    """Add ``tag`` to ``[general] warmup_tags`` (a tag already there, in any case, is kept as is)."""
    config = check(path, read_text(path))
    tags = list(config.general.warmup_tags)
    if tag.casefold() in (t.casefold() for t in tags):
        return config
    return set_general(path, "warmup_tags", [*tags, tag])
