"""What is built differently on the store's two databases (not merely spelled differently:
``app.store.pgdb.to_pg`` rewrites those): full-text search.

The same search syntax on both: every word typed is a prefix, all are required; a word with
punctuation inside (an address, a domain) is a phrase of its pieces. On SQLite that is an FTS5
query over ``messages_fts``; on PostgreSQL a ``tsquery`` over ``messages.search_vector`` (the
'simple' configuration over the same three fields, punctuation read as a space, as FTS5's
tokenizer reads it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_WORDS = re.compile(r"[\w@.+-]+", flags=re.UNICODE)
_PIECES = re.compile(r"[^\W_]+|_+", flags=re.UNICODE)


def _typed_words(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text) if w.strip(".-+@")]


def fts5_query(text: str) -> str:
    """What a user typed as a safe FTS5 query: every word a prefix term, all required."""
    return " ".join('"' + w.replace('"', "") + '"*' for w in _typed_words(text))


def tsquery(text: str) -> str:
    """The same as a PostgreSQL ``tsquery``: each word's pieces in sequence (``<->``), the last a
    prefix (``:*``), the words joined by ``&``."""
    terms = []
    for word in _typed_words(text):
        pieces = [p.lower() for p in _PIECES.findall(word) if p.strip("_")]
        if pieces:
            terms.append(" <-> ".join(f"'{p}'" for p in pieces) + ":*")
    return " & ".join(terms)


@dataclass(frozen=True)
class Dialect:
    name: str
    search_query: Callable[[str], str]
    """What a user typed, as this database's full-text query ('' when nothing is searchable)."""
    search_hits: str
    """A SELECT of the ids of the messages matching the query (one parameter)."""


SQLITE = Dialect("sqlite", fts5_query, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?")
POSTGRES = Dialect("postgresql", tsquery,
                   "SELECT id FROM messages WHERE search_vector @@ to_tsquery('simple', ?)")
