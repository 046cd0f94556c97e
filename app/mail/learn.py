"""The user's own labelled replies, as a small local model the intent reader consults.

Every relabel in the inbox is an example of this operator's prospects: (the new text of the
reply, the label). ``Examples`` keeps them as sets of words and word pairs and finds the
labelled replies closest to a new one (Jaccard similarity, through an inverted index on the
rarer words): nearest neighbours, a few dozen lines, pure Python, nothing downloaded, nothing
sent anywhere. The examples are handed in by the caller (the engine reads them from the store);
this package never reads them itself.

Costs are not symmetric here either: a refusal (not interested, unsubscribe) needs two close
examples and no close example of interest; interest needs one.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.mail.folding import fold, normalize

LEARNED = ("interested", "meeting", "not_interested", "unsubscribe", "wrong_person")
"""The labels examples can teach: the intents of a reply."""
NEGATIVE = ("not_interested", "unsubscribe")
MAX_EXAMPLES = 2000
"""Examples kept (the caller passes the newest first)."""
CLOSE = 0.5
"""Similarity from which an example counts as alike."""
NEAR = 0.85
"""Similarity from which an example is a near copy: it may overrule the rules."""
_WORD = re.compile(r"\w{1,30}")
_MAX_CHARS = 2000
_COMMON = 0.2
"""Words in more than this share of the examples find no candidates by themselves."""


def features(text: str) -> frozenset[str]:
    """The words of ``text`` (folded) and its adjacent word pairs, so "not interested" and
    "interested" differ."""
    words = _WORD.findall(fold(normalize(text)[:_MAX_CHARS]))
    return frozenset(words) | frozenset(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))


@dataclass(frozen=True)
class Verdict:
    category: str
    votes: int
    """Close examples with this label."""
    similarity: float
    """Of the closest of them."""
    near_copies: int
    """Examples with this label that are near copies of the reply."""
    enough: bool
    """Whether the votes suffice for this label (more are needed for a refusal)."""

    @property
    def reason(self) -> str:
        label = self.category.replace("_", " ")
        replies = "reply" if self.votes == 1 else "replies"
        return f"like {self.votes} {replies} you labelled {label} (closest {self.similarity:.0%} alike)"


class Examples:
    """Labelled replies, ready to be compared with new ones."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._items: list[tuple[frozenset[str], str]] = []
        for text, label in pairs:
            if label in LEARNED and text and text.strip():
                self._items.append((features(text), label))
                if len(self._items) >= MAX_EXAMPLES:
                    break
        self._index: dict[str, list[int]] = defaultdict(list)
        for i, (feats, _) in enumerate(self._items):
            for f in feats:
                self._index[f].append(i)
        limit = max(2, int(len(self._items) * _COMMON))
        self._rare = {f for f, ids in self._index.items() if len(ids) <= limit}

    @property
    def size(self) -> int:
        return len(self._items)

    def labels(self) -> Counter[str]:
        return Counter(label for _, label in self._items)

    def nearest(self, text: str) -> Verdict | None:
        """The label the closest examples agree on, or None when none is alike."""
        query = features(text)
        if not query or not self._items:
            return None
        candidates = {i for f in query if f in self._rare for i in self._index[f]}
        close: dict[str, list[float]] = defaultdict(list)
        for i in candidates:
            feats, label = self._items[i]
            shared = len(query & feats)
            similarity = shared / (len(query) + len(feats) - shared)
            if similarity >= CLOSE:
                close[label].append(similarity)
        if not close:
            return None
        label = max(close, key=lambda k: (sum(close[k]), max(close[k])))
        sims = close[label]
        if label in NEGATIVE:
            enough = len(sims) >= 2 and not any(k not in NEGATIVE and k != "wrong_person" for k in close)
        else:
            enough = True
        return Verdict(label, len(sims), max(sims), sum(s >= NEAR for s in sims), enough)


@lru_cache(maxsize=4)
def examples_from(pairs: tuple[tuple[str, str], ...]) -> Examples:
    """``Examples`` for ``pairs``, built once per distinct set (the engine passes the same set
    for every batch until the user labels another reply)."""
    return Examples(pairs)
