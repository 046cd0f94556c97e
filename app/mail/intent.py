"""What a human reply means for the campaign: interested, meeting, not interested, unsubscribe,
wrong person, or none of these.

Only the new part of the reply is read: the quoted cold email below it is full of words like
"call" and "interested" that the prospect never wrote. When several categories fire, the
rules' order decides (an unsubscribe request outranks a polite "not interested", which
outranks anything positive in the same text).

The text is folded once (diacritics dropped, see ``rules.fold``) and matched against folded
patterns, so a reply typed without accents reads like one typed with them. A phrase of a
negatable category (``[negation]`` in ``rules.toml``: meeting, interested) that a negation
word governs in its own clause ("ça ne nous intéresse pas", "pare de me mandar", "das
interessiert uns nicht") does not count: negated interest is never read as interest.
"""

from __future__ import annotations

import re

from app.mail.rules import Rules, compiled_folded, compiled_words, fold, normalize, unfold_span
from app.mail.thread import is_reply_subject
from app.mail.types import ParsedMessage

# How many words either side of a phrase a negation word may stand and still govern it.
_WINDOW = 4
_WINDOW_AFTER = 6
# A text that negates the same phrase over and over is not read for it past this many.
_MAX_NEGATED = 20
# Where a clause ends: punctuation, a dash between spaces, or a "but" (the negation in
# "not now, but send the deck" or "no sé si ahora, pero envíame …" governs the first part only).
_CLAUSE = re.compile(r"[.,;:!?¿¡()\[\]\"]|\s[-\u2013\u2014]\s|\b(?:but|however|though|although|aber|jedoch|"
                     r"sondern|mais|pero|sino|mas|ma|maar|ale|lecz)\b")
_WORD_TAIL = re.compile(r"^\w+")
_WORD_HEAD = re.compile(r"\w+$")


def read_intent(pm: ParsedMessage, rules: Rules) -> tuple[str, float, list[str]]:
    """``(category, confidence, reasons)`` for a human reply."""
    text = normalize(pm.new_text)
    if not is_reply_subject(pm.subject):
        # A fresh message's subject was written by the prospect too ("Unsubscribe").
        text = f"{normalize(pm.subject)} . {text}"
    if not text.strip(" ."):
        return "uncategorized", 0.3, ["no new text"]
    text = text[:8000]
    folded = fold(text)
    before, after = compiled_words(rules.negation_before), compiled_words(rules.negation_after)
    hits, negated = [], []
    for category in rules.intent_order:
        rx = compiled_folded(rules.intents.get(category, ()))
        if rx is None:
            continue
        check = category in rules.negatable and (before or after)
        pos = skipped = 0
        while (m := rx.search(folded, pos)) is not None and skipped < _MAX_NEGATED:
            if not check or not _negated(folded, m, before, after):
                hits.append((category, _quote(text, m)))
                break
            if skipped < 2:
                negated.append(f"ignored {category.replace('_', ' ')}: {_quote(text, m)!r} "
                               f"(negated)")
            skipped += 1
            pos = max(m.end(), m.start() + 1)
    if not hits:
        return "uncategorized", 0.5, ["no intent phrase matched", *negated]
    category, phrase = hits[0]
    confidence = 0.85 if len(hits) == 1 else 0.7
    reasons = [f"{category.replace('_', ' ')}: {phrase!r}"]
    reasons += [f"also {other.replace('_', ' ')}: {p!r} (lower priority)" for other, p in hits[1:]]
    return category, confidence, reasons + negated


def _negated(folded: str, m: re.Match[str], before: re.Pattern[str] | None,
             after: re.Pattern[str] | None) -> bool:
    """Whether a negation word stands within a few words of the match, in the same clause."""
    # the rest of a word the match cuts ("interesse" in "interesseert") is not a word apart
    head = _WORD_HEAD.sub("", folded[max(0, m.start() - 80):m.start()])
    tail = _WORD_TAIL.sub("", folded[m.end():m.end() + 80])
    if before is not None:
        words = _CLAUSE.split(head)[-1].split()
        if before.search(" ".join(words[-_WINDOW:])):
            return True
    if after is not None:
        words = _CLAUSE.split(tail, maxsplit=1)[0].split()
        if after.search(" ".join(words[:_WINDOW_AFTER])):
            return True
    return False


def _quote(text: str, m: re.Match[str]) -> str:
    """The phrase ``m`` matched in the folded text, as the prospect wrote it, accents and all."""
    start, end = unfold_span(text, m.start(), m.end())
    return text[start:end]
