"""What a reply means for the campaign: interested, meeting, not interested, unsubscribe, wrong
person, or none of these.

Only the new part of the reply is read: the quoted cold email below it is full of words like
"call" and "interested" that the prospect never wrote. The text is folded once (diacritics
dropped, see ``folding.fold``) and matched against folded patterns, so a reply typed without
accents reads like one typed with them.

Every phrase that matches is a *cue*, and the reply is read clause by clause, the way a person
reads it, with one mechanism in every language (the words are data in ``rules.toml``):

- **Negation.** A cue of interest or of a meeting that a negation word governs in its own clause
  ("ça ne nous intéresse pas", "not interested in a call") does not count. A refusal or an
  unsubscribe request is cancelled only by a negation right before it ("no need to remove me",
  "I don't want to unsubscribe").
- **Litotes.** A negated word of refusal or dullness says yes: "not uninteresting", "nicht
  uninteressant", "I wouldn't say no", "nicht abgeneigt" are interest, and the negation they hold
  governs nothing else ("I wouldn't say no to a call" is a meeting).
- **Contrast.** In "…, but …" the clause after *but* decides: cues of the other leaning before it
  are overridden ("Not for us this quarter, but send me the deck" is interest; "Interesting idea,
  but we have no need" is a refusal).
- **Referrals.** An address written in the new text, or a cc'd person named in it, near a "not me /
  right person / no longer / reach out to" cue, is a referral: wrong person, with that address.

Costs are not symmetric. Filing an interested prospect as "not interested" or "unsubscribe"
loses a lead and may suppress them; leaving a reply uncategorized costs a glance. So a refusal
and interest left standing side by side never make a refusal: the reply is interest when the
interest comes last, and otherwise it is left uncategorized for the user, and the reasons say
which cue won and why. Among cues of one leaning the rules' order decides (an unsubscribe request
outranks a polite "not interested").

Where the rules are unsure (no cue, or a conflict left open), the user's own labelled replies
decide when one is close enough (``learn.Examples``); a near-copy of a reply the user labelled
also overrides the rules, though a refusal needs two of them to overrule interest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from app.mail.folding import compiled_words, fold, fold_pattern, folded_phrases, normalize, unfold_span
from app.mail.learn import Examples, Verdict
from app.mail.phrases import Phrases, Pieces, by_identity, grams
from app.mail.rules import Rules
from app.mail.thread import is_reply_subject
from app.mail.types import ParsedMessage

POSITIVE: Final = ("interested", "meeting")
NEGATIVE: Final = ("unsubscribe", "not_interested")

# How many words either side of a phrase a negation word may stand and still govern it.
_WINDOW: Final = 4
_WINDOW_AFTER: Final = 6
# A negative cue is cancelled only by a negation this close before it.
_WINDOW_NEGATIVE: Final = 3
# Matches of one category read per reply (a text repeating a phrase is not read past this).
_MAX_CUES: Final = 12
_MAX_TEXT: Final = 8000
# Where a clause ends: punctuation, a dash between spaces, or a "but" (the negation in
# "not now, but send the deck" or "no sé si ahora, pero envíame …" governs the first part only).
_CLAUSE: Final = re.compile(r"[.,;:!?¿¡()\[\]\"]|\s[-\u2013\u2014]\s|\b(?:but|however|though|although|aber|jedoch|"
                            r"sondern|mais|pero|sino|mas|ma|maar|ale|lecz)\b")
# For a negative cue, "and" ends the clause too: in "not interested and don't want more emails"
# the "not" is spent on "interested".
_CLAUSE_NEGATIVE: Final = re.compile(_CLAUSE.pattern + r"|\b(?:and|und|et|y|e|en|i|oraz)\b")
_WORD_TAIL: Final = re.compile(r"^\w+")
_WORD_HEAD: Final = re.compile(r"(?<!\w)\w+$")  # one start per word: linear
_ADDRESS: Final = re.compile(r"[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}")
_NAME_PART: Final = re.compile(r"[a-z]{3,30}")
# How far (characters) a referral cue may stand from the address or the name it goes with.
_REFERRAL_REACH: Final = 160


@dataclass
class Cue:
    category: str
    phrase: str
    """As the prospect wrote it, accents and all."""
    start: int
    end: int
    """Span in the folded text."""
    status: str = "counted"
    """``counted``, ``negated``, ``overridden`` (by contrast), ``litotes`` or ``referral``."""
    why: str = ""

    def describe(self) -> str:
        label = self.category.replace("_", " ")
        return f"{label}: {self.phrase!r}" + (f" ({self.why})" if self.why else "")


@dataclass
class IntentReading:
    category: str
    confidence: float
    reasons: list[str]
    cues: list[Cue] = field(default_factory=list)
    referral: str | None = None
    rules_category: str = "uncategorized"
    """What the rules alone decided, before the user's examples had a say."""
    learned: Verdict | None = None


def read_intent(pm: ParsedMessage, rules: Rules,
                examples: Examples | None = None) -> tuple[str, float, list[str]]:
    """``(category, confidence, reasons)`` for a reply."""
    reading = read(pm, rules, examples)
    return reading.category, reading.confidence, reading.reasons


def read(pm: ParsedMessage, rules: Rules, examples: Examples | None = None) -> IntentReading:
    """The whole reading of a reply: every cue, what became of it, and the decision."""
    text = normalize(pm.new_text)
    if not is_reply_subject(pm.subject):
        # A fresh message's subject was written by the prospect too ("Unsubscribe").
        text = f"{normalize(pm.subject)} . {text}"
    if not text.strip(" ."):
        return IntentReading("uncategorized", 0.3, ["no new text"])
    text = text[:_MAX_TEXT]
    folded = fold(text)
    text_grams = grams(folded)
    litotes = _litotes(text, folded, text_grams, rules)
    # the negations litotes hold are spent: they govern nothing else
    masked = folded
    for lit in litotes:
        masked = masked[:lit.start] + " " * (lit.end - lit.start) + masked[lit.end:]
    contrast = compiled_words(rules.contrast)
    marks = [m for m in contrast.finditer(folded)][:_MAX_CUES] if contrast is not None else []
    cues = _find_cues(text, folded, text_grams, masked, litotes, marks, rules)
    _courtesy(cues, folded)
    cues += litotes
    referral, ref_cue = _referral(text, folded, text_grams, pm, rules)
    if ref_cue is not None:
        cues.append(ref_cue)
    cues.sort(key=lambda c: c.start)
    _contrast(cues, marks)
    reading = _decide(cues, rules)
    reading.referral = referral if reading.category == "wrong_person" else None
    reading.rules_category = reading.category
    if examples is not None and examples.size:
        _consult_examples(reading, examples, text)
    return reading


# A phrase starts at a word (letters, digits, an apostrophe …), never at a space or punctuation:
# a look for it before a compiled choice of phrases lets the engine skip those positions without
# trying every phrase there (about a sixth faster on replies); a phrase searched alone that can
# begin only with such characters goes without it (phrases.Phrases). Used only when every phrase
# of a category visibly starts at a word.
_WORD_START: Final = r"[^\s.,;:!?()\-]"
_STARTS_AT_WORD: Final = re.compile(r"(?:\(\?:|\(\?<[!=][^()]{0,60}\))*(?:[a-z0-9]|\\[bwdS]|\^)")


@by_identity
@cache
def _phrases(patterns: tuple[str, ...]) -> Phrases | None:
    """``compiled_folded(patterns)``, told that every match starts at a word where that is
    plain, and narrowed to the phrases a text can hold."""
    if not patterns:
        return None
    folded = tuple(fold_pattern(p) for p in patterns)
    if not all(_STARTS_AT_WORD.match(p) for p in folded):
        return Phrases(folded)
    return Phrases(folded, _WORD_START)


def phrase_sets(rules: Rules) -> list[Phrases]:
    """The phrase sets the reading searches a reply's text for."""
    return [phrases for phrases in [*(_phrases(rules.intents.get(c, ())) for c in rules.intent_order),
                                    folded_phrases(rules.litotes), folded_phrases(rules.referral_cues)]
            if phrases is not None]


def prepare(rules: Rules) -> None:
    """Compile every phrase the reading may search alone (``Phrases.prepare``)."""
    for phrases in phrase_sets(rules):
        phrases.prepare()


def _find_cues(text: str, folded: str, text_grams: Pieces, masked: str, litotes: list[Cue],
               marks: list[re.Match[str]], rules: Rules) -> list[Cue]:
    """The cues of every category, each with what became of it (negated, part of a litotes).

    A category is read past its first counted cue only when a contrast word follows that cue
    (the clause after it may turn the reply round): that keeps the cost of a reply close to one
    pass of each category's phrases."""
    cues: list[Cue] = []
    spent: list[tuple[Cue, int]] = []
    for category in rules.intent_order:
        phrases = _phrases(rules.intents.get(category, ()))
        rx = phrases.for_text(text_grams) if phrases is not None else None
        if rx is None:
            continue
        pos = 0
        for _ in range(_MAX_CUES):
            m = rx.search(folded, pos)
            if m is None:
                break
            pos = max(m.end(), m.start() + 1)
            cue = Cue(category, _quote(text, m.start(), m.end()), m.start(), m.end())
            cues.append(cue)
            if any(lit.start <= cue.start < lit.end for lit in litotes):
                cue.status, cue.why = "litotes", "part of a litotes"
                continue
            at = _negation_at(cue, masked, rules)
            if at is None:
                # read on only in the clause after the next contrast word, if there is one
                later = [mark.end() for mark in marks if mark.start() >= cue.end]
                if not later:
                    break
                pos = later[0]
                continue
            cue.status, cue.why = "negated", "negated"
            if cue.category in NEGATIVE:
                spent.append((cue, at))
    # a refusal phrase whose negation is spent on another refusal is no refusal:
    # "I don't want to unsubscribe", "no need to remove me"
    for cue, at in spent:
        for other in cues:
            if other is not cue and other.category in NEGATIVE and other.start <= at < other.end:
                other.status, other.why = "negated", f"its negation governs {cue.phrase!r}"
    return cues


def _litotes(text: str, folded: str, text_grams: Pieces, rules: Rules) -> list[Cue]:
    """Negated words of refusal or dullness ("not uninteresting"): interest, spanning the negation."""
    phrases = folded_phrases(rules.litotes)
    words = phrases.for_text(text_grams) if phrases is not None else None
    before = compiled_words(rules.negation_before)
    if words is None or before is None:
        return []
    found = []
    pos = 0
    for _ in range(_MAX_CUES):
        m = words.search(folded, pos)
        if m is None:
            break
        pos = max(m.end(), m.start() + 1)
        start = _negation_before(folded, m.start(), before, _WINDOW, _CLAUSE)
        if start is not None:
            found.append(Cue("interested", _quote(text, start, m.end()), start, m.end(), "litotes",
                             "litotes: a negated no"))
    return found


def _negation_at(cue: Cue, masked: str, rules: Rules) -> int | None:
    """Where the negation word that governs ``cue`` stands, if one does."""
    if cue.category in rules.negatable:
        before = compiled_words(rules.negation_before)
        after = compiled_words(rules.negation_after)
        if before is not None and (at := _negation_before(masked, cue.start, before, _WINDOW, _CLAUSE)) is not None:
            return at
        if after is not None:
            tail = _WORD_TAIL.sub("", masked[cue.end:cue.end + 80])
            if after.search(" ".join(first_words(tail, _CLAUSE, _WINDOW_AFTER))):
                return cue.end
        return None
    if cue.category in rules.negative_negatable:
        strong = compiled_words(rules.negation_negative)
        if strong is not None:
            return _negation_before(masked, cue.start, strong, _WINDOW_NEGATIVE, _CLAUSE_NEGATIVE)
    return None


def _negation_before(folded: str, start: int, negation: re.Pattern[str], window: int,
                     clause: re.Pattern[str]) -> int | None:
    """Where a negation word stands within ``window`` words before ``start``, in its clause."""
    lo = max(0, start - 80)
    # the rest of a word the match cuts ("interesse" in "uninteressant") is not a word apart
    head = without_word_end(folded[lo:start])
    words = last_words(head, clause, window)
    if not words:
        return None
    tail = " ".join(words)
    found = [m.start() for m in negation.finditer(tail)]
    if not found:
        return None
    # map back: the joined words are the end of ``head`` with single spaces (normalized text)
    return lo + len(head.rstrip()) - len(tail) + found[-1]


def _is_word(ch: str) -> bool:
    """Whether ``ch`` is what ``\\w`` matches in a text (not ``re.ASCII``)."""
    return ch.isalnum() or ch == "_"


def without_word_end(text: str) -> str:
    """``_WORD_HEAD.sub("", text)``: ``text`` without the word characters it ends with. A loop
    back from the end, where the expression tries every word of the text (3 us for 80
    characters, for the one at the end)."""
    if text.endswith("\n"):  # (``$`` also stands before a last line break)
        return _WORD_HEAD.sub("", text)
    i = len(text)
    while i > 0 and _is_word(text[i - 1]):
        i -= 1
    return text[:i]


def last_words(head: str, clause: re.Pattern[str], window: int) -> list[str]:
    """``clause.split(head)[-1].split()[-window:]``: the last ``window`` words of the last
    clause of ``head``, its clause marks (``_CLAUSE``, ``_CLAUSE_NEGATIVE``) looked for only from
    a little before those words instead of through the whole text.

    From a space after a word character no mark can have begun that goes on past it (a mark is
    a character, a dash between spaces, or a whole word): the marks found from there are those
    the whole text's split finds there. A mark before it cuts none of the last ``window`` words.
    tests/test_mail_intent.py holds the two to the same words."""
    i = len(head)
    for _ in range(window):  # back to where the window-th word from the end begins
        while i > 0 and head[i - 1].isspace():
            i -= 1
        while i > 0 and not head[i - 1].isspace():
            i -= 1
    p = i - 1
    while p > 0 and not (head[p].isspace() and _is_word(head[p - 1])):
        p -= 1
    if p <= 0:
        return clause.split(head)[-1].split()[-window:]
    end = p
    for m in clause.finditer(head, p):
        end = m.end()
    return head[end:].split()[-window:]


def first_words(tail: str, clause: re.Pattern[str], count: int) -> list[str]:
    """``clause.split(tail, maxsplit=1)[0].split()[:count]``: the first ``count`` words of the
    first clause of ``tail``, its first clause mark looked for only up to just past those
    words. A mark that goes on past there begins at the space after them, or later: it cuts none
    of them. tests/test_mail_intent.py holds the two to the same words."""
    i = 0
    n = len(tail)
    for _ in range(count):  # on to where the count-th word ends
        while i < n and tail[i].isspace():
            i += 1
        while i < n and not tail[i].isspace():
            i += 1
    m = clause.search(tail, 0, i + 1 if i < n else n)
    return (tail[:m.start()] if m is not None else tail).split()[:count]


def _courtesy(cues: list[Cue], folded: str) -> None:
    """A word of interest inside a request, or right before one in its clause, is courtesy:
    "Graag afmelden", "Yes please remove me", "Proszę więcej nie pisać" are requests."""
    requests = [c for c in cues if c.category in NEGATIVE and c.status == "counted"]
    for cue in cues:
        if cue.category not in POSITIVE or cue.status != "counted":
            continue
        for req in requests:
            between = folded[cue.end:req.start]
            if (cue.start < req.end and req.start < cue.end) or (
                    req.start >= cue.end and len(between) <= 20 and len(between.split()) <= 1 and not _CLAUSE.search(between)):
                cue.status, cue.why = "negated", f"courtesy in {req.phrase!r}"
                break


def _contrast(cues: list[Cue], marks: list[re.Match[str]]) -> None:
    """"A, but B": when B holds a counted cue of one leaning, A's cues of the other are overridden."""
    for mark in reversed(marks):
        after = [c for c in cues if c.status in ("counted", "litotes") and c.start >= mark.end()
                 and _leaning(c) and c.category != "wrong_person"]
        if not after:
            continue
        # the clause right after the mark: up to the next mark
        later = [m.start() for m in marks if m.start() > mark.start()]
        end = later[0] if later else 1 << 30
        deciding = [c for c in after if c.start < end] or after
        leaning = _leaning(deciding[0])
        if any(_leaning(c) != leaning for c in deciding):
            continue
        for c in cues:
            if (c.start < mark.start() and c.status in ("counted", "litotes")
                    and _leaning(c) not in (None, leaning)):
                c.status = "overridden"
                c.why = f"before {mark.group(0)!r}, which turns to {deciding[0].phrase!r}"
        return


def _leaning(cue: Cue) -> str | None:
    if cue.category in POSITIVE:
        return "positive"
    if cue.category in NEGATIVE:
        return "negative"
    return None


def _decide(cues: list[Cue], rules: Rules) -> IntentReading:
    counted = [c for c in cues if c.status in ("counted", "litotes")]
    if any(c.category in POSITIVE for c in counted) and not any(c.category == "wrong_person" for c in counted):
        # an address or a colleague brought in beside interest, with no "not me": the colleague
        # joins, the interest stands ("Let's talk Tuesday, adding Tom in cc")
        for c in cues:
            if c.status == "referral":
                c.status, c.why = "overridden", f"{c.why}, beside interest"
    live = [c for c in cues if c.status in ("counted", "litotes", "referral")]
    dropped = [c for c in cues if c not in live]
    notes = [f"ignored {c.describe()}" for c in dropped][:6]
    if not live:
        return IntentReading("uncategorized", 0.5, ["no intent phrase matched", *notes], cues)
    order = {name: i for i, name in enumerate(rules.intent_order)}
    ranked = sorted(live, key=lambda c: (order.get(c.category, len(order)), c.start))
    positive = [c for c in live if c.category in POSITIVE]
    negative = [c for c in live if c.category in NEGATIVE]
    if positive and negative and not any(c.category == "wrong_person" for c in live):
        last_pos, last_neg = positive[-1], negative[-1]
        if last_pos.start > last_neg.start:
            best = sorted(positive, key=lambda c: (order.get(c.category, len(order)), c.start))[0]
            reasons = [best.describe(),
                       f"won over {last_neg.describe()}: the interest comes after it, and a refusal "
                       f"is never filed over interest"]
            return IntentReading(best.category, 0.6, reasons + notes, cues)
        reasons = [f"both {last_neg.describe()} and {last_pos.describe()}: left for you to read "
                   f"(a refusal is never filed over interest)"]
        return IntentReading("uncategorized", 0.4, reasons + notes, cues)
    best = ranked[0]
    reasons = [best.describe()]
    reasons += [f"also {c.describe()} (lower priority)" for c in ranked[1:] if c.category != best.category][:4]
    confidence = 0.85 if len({c.category for c in live}) == 1 else 0.7
    return IntentReading(best.category, confidence, reasons + notes, cues)


def _referral(text: str, folded: str, text_grams: Pieces, pm: ParsedMessage,
              rules: Rules) -> tuple[str | None, Cue | None]:
    """An address in the new text (or a cc'd person named in it) near a referral cue."""
    if "@" not in folded and not pm.cc:  # (most replies) no address, no one in cc: nobody to point to
        return None, None
    phrases = folded_phrases(rules.referral_cues)
    # a cue is looked for near each address, in a part of the text: one the text cannot hold is left out
    cue_rx = phrases.for_text(text_grams) if phrases is not None else None
    if cue_rx is None:
        return None, None
    own = {a.email.lower() for a in [pm.from_, *pm.to, *pm.reply_to] if a}
    targets: list[tuple[int, int, str]] = []
    for m in list(_ADDRESS.finditer(folded))[:_MAX_CUES]:
        addr = m.group(0).rstrip(".")
        if addr not in own:
            targets.append((m.start(), m.end(), addr))
    for person in pm.cc[:20]:
        if person.email.lower() in own:
            continue
        names = set(_NAME_PART.findall(fold(person.name)))
        names |= set(_NAME_PART.findall(person.email.lower().split("@")[0]))
        names -= _sender_names(pm)
        for name in sorted(names):
            named = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded)
            if named is not None:
                targets.append((named.start(), named.end(), person.email))
                break
    for start, end, addr in targets:
        lo, hi = max(0, start - _REFERRAL_REACH), min(len(folded), end + _REFERRAL_REACH)
        window = folded[lo:start] + " " * (end - start) + folded[end:hi]
        near = cue_rx.search(window)
        if near is not None:
            phrase = _quote(text, lo + near.start(), lo + near.end())
            return addr, Cue("wrong_person", phrase, lo + near.start(), lo + near.end(), "referral",
                             f"referral to {addr}")
    return None, None


def _sender_names(pm: ParsedMessage) -> set[str]:
    if pm.from_ is None:
        return set()
    return set(_NAME_PART.findall(fold(pm.from_.name))) | set(
        _NAME_PART.findall(pm.from_.email.lower().split("@")[0]))


def _consult_examples(reading: IntentReading, examples: Examples, text: str) -> None:
    """Let the user's labelled replies decide where the rules are unsure, or overrule them with
    near-copies. A refusal needs more of them than interest does."""
    verdict = examples.nearest(text)
    reading.learned = verdict
    if verdict is None:
        return
    unsure = reading.category == "uncategorized"
    if verdict.category == reading.category:
        reading.reasons.append(verdict.reason)
        return
    if unsure and verdict.enough:
        pass
    elif verdict.near_copies >= (2 if verdict.category in NEGATIVE and reading.category in POSITIVE else 1):
        pass
    else:
        reading.reasons.append(f"not followed: {verdict.reason}")
        return
    was = reading.category.replace("_", " ")
    reading.category = verdict.category
    reading.confidence = 0.6
    reading.reasons = [verdict.reason, f"the rules alone said {was}", *reading.reasons]


def _quote(text: str, start: int, end: int) -> str:
    """The span of the folded text, as the prospect wrote it, accents and all."""
    a, b = unfold_span(text, start, end)
    return text[a:b]
