"""The names of the categories: one vocabulary for the inbox, the CLI and the exports.

A category is stored by its identifier (``unsubscribe``, ``not_interested``); people read and type
its name (``do not contact``, ``not interested``). Everything shown to a person uses the name;
every place that takes a category accepts the name, the identifier, and either spelled with
spaces, hyphens or underscores in any case.
"""

from __future__ import annotations

from app.mail.types import CATEGORIES

CATEGORY_NAMES = {
    "interested": "interested",
    "meeting": "meeting",
    "not_interested": "not interested",
    "unsubscribe": "do not contact",
    "wrong_person": "wrong person",
    "out_of_office": "out of office",
    "bounce": "bounce",
    "complaint": "complaint",
    "auto_reply": "auto-reply",
    "uncategorized": "uncategorized",
}
assert set(CATEGORY_NAMES) == set(CATEGORIES)

_ALIASES = {"unsubscribed": "unsubscribe", "dnc": "unsubscribe", "ooo": "out_of_office",
            "autoreply": "auto_reply", "none": "uncategorized"}


def _key(text: str) -> str:
    return " ".join(text.strip().casefold().replace("_", " ").replace("-", " ").split())


_BY_KEY = {_key(word): code for code, name in CATEGORY_NAMES.items() for word in (code, name)}
_BY_KEY.update({_key(alias): code for alias, code in _ALIASES.items()})


def category_name(category: str | None) -> str:
    """The name people read; an identifier this version does not know is shown as it is."""
    return CATEGORY_NAMES.get(category or "uncategorized", category or "")


def parse_category(text: str) -> str:
    """The identifier for a typed category: ``do not contact``, ``do-not-contact``,
    ``unsubscribe`` and ``Not_Interested`` all work. ValueError names the choices."""
    code = _BY_KEY.get(_key(text[:64]))
    if code is None:
        raise ValueError(f"unknown category {text!r} (one of: {', '.join(CATEGORY_NAMES.values())})")
    return code
