"""The phrase rules of ``rules.toml``, compiled, and a user's additions merged in.

``load_rules`` takes TOML text, not a path: reading files is the caller's business (the CLI
reads ``--rules``), which keeps this package free of IO beyond its own shipped data.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Rules:
    autoreply_subject: tuple[str, ...] = ()
    autoreply_body: tuple[str, ...] = ()
    ooo_subject: tuple[str, ...] = ()
    ooo_body: tuple[str, ...] = ()
    ooo_until: tuple[str, ...] = ()
    intent_order: tuple[str, ...] = ()
    intents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def merged(self, extra: "Rules") -> "Rules":
        """These rules with ``extra``'s patterns added and its order, if any, in charge."""
        intents = {k: tuple(v) for k, v in self.intents.items()}
        for name, patterns in extra.intents.items():
            intents[name] = intents.get(name, ()) + tuple(patterns)
        order = extra.intent_order or self.intent_order
        order = tuple(order) + tuple(n for n in intents if n not in order)
        return Rules(
            autoreply_subject=self.autoreply_subject + extra.autoreply_subject,
            autoreply_body=self.autoreply_body + extra.autoreply_body,
            ooo_subject=self.ooo_subject + extra.ooo_subject,
            ooo_body=self.ooo_body + extra.ooo_body,
            ooo_until=extra.ooo_until + self.ooo_until,
            intent_order=order,
            intents=intents,
        )


def load_rules(text: str) -> Rules:
    """Rules from TOML text in the format documented at the top of ``rules.toml``.

    Raises ValueError naming the table and pattern when the TOML or a pattern is invalid.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"rules are not valid TOML: {exc}") from None
    auto = data.get("autoreply", {})
    ooo = data.get("out_of_office", {})
    intent = data.get("intent", {})
    intents = {name: _patterns(value.get("patterns", []), f"intent.{name}")
               for name, value in intent.items() if isinstance(value, dict)}
    order = intent.get("order", [])
    if not isinstance(order, list) or not all(isinstance(o, str) for o in order):
        raise ValueError("intent.order must be a list of category names")
    return Rules(
        autoreply_subject=_patterns(auto.get("subject", []), "autoreply.subject"),
        autoreply_body=_patterns(auto.get("body", []), "autoreply.body"),
        ooo_subject=_patterns(ooo.get("subject", []), "out_of_office.subject"),
        ooo_body=_patterns(ooo.get("body", []), "out_of_office.body"),
        ooo_until=_patterns(ooo.get("until", []), "out_of_office.until"),
        intent_order=tuple(order),
        intents=intents,
    )


def _patterns(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{where} must be a list of strings")
    for pattern in value:
        if any(ord(c) < 32 for c in pattern):
            raise ValueError(f"{where}: pattern {pattern!r} holds a control character (in a "
                             f"double-quoted TOML string \\b is a backspace: use '…' quotes)")
        try:
            re.compile(pattern, _FLAGS)
        except re.error as exc:
            raise ValueError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return tuple(value)


@cache
def default_rules() -> Rules:
    """The rules shipped in ``app/mail/rules.toml``."""
    return load_rules(resources.files("app.mail").joinpath("rules.toml").read_text("utf-8"))


@cache
def compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of ``patterns``, compiled once per rule set."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)


def first_match(patterns: tuple[str, ...], text: str) -> str | None:
    """The text matched by the first pattern that fires in ``text``, or None."""
    rx = compiled(patterns)
    if rx is None or not text:
        return None
    m = rx.search(text)
    return m.group(0) if m else None


def normalize(text: str) -> str:
    """Text as the rules see it: one line, straight apostrophes."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())
