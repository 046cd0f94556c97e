"""What a human reply means for the campaign: interested, meeting, not interested, unsubscribe,
wrong person, or none of these.

Only the new part of the reply is read: the quoted cold email below it is full of words like
"call" and "interested" that the prospect never wrote. When several categories fire, the
rules' order decides (an unsubscribe request outranks a polite "not interested", which
outranks anything positive in the same text).
"""

from __future__ import annotations

from app.mail.rules import Rules, first_match, normalize
from app.mail.thread import is_reply_subject
from app.mail.types import ParsedMessage


def read_intent(pm: ParsedMessage, rules: Rules) -> tuple[str, float, list[str]]:
    """``(category, confidence, reasons)`` for a human reply."""
    text = normalize(pm.new_text)
    if not is_reply_subject(pm.subject):
        # A fresh message's subject was written by the prospect too ("Unsubscribe").
        text = f"{normalize(pm.subject)} . {text}"
    if not text.strip(" ."):
        return "uncategorized", 0.3, ["no new text"]
    hits = []
    for category in rules.intent_order:
        phrase = first_match(rules.intents.get(category, ()), text[:8000])
        if phrase:
            hits.append((category, phrase))
    if not hits:
        return "uncategorized", 0.5, ["no intent phrase matched"]
    category, phrase = hits[0]
    confidence = 0.85 if len(hits) == 1 else 0.7
    reasons = [f"{category.replace('_', ' ')}: {phrase!r}"]
    reasons += [f"also {other.replace('_', ' ')}: {p!r} (lower priority)" for other, p in hits[1:]]
    return category, confidence, reasons
