"""The phrase rules of ``rules.toml``, compiled, and a user's additions merged in.

``load_rules`` takes TOML text, not a path: reading files is the caller's business (the CLI
reads ``--rules``), which keeps this package free of IO beyond its own shipped data.

Intent phrases are matched accent-insensitively: ``fold`` strips diacritics from the reply once
and ``fold_pattern`` does the same to every pattern once, when it is compiled, so "nao temos
interesse" meets 'não temos interesse' and "Loeschen" meets 'löschen' in every language.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from app.mail.phrases import Phrases, by_identity, grams


@dataclass(frozen=True)
class Rules:
    autoreply_subject: tuple[str, ...] = ()
    autoreply_body: tuple[str, ...] = ()
    ooo_subject: tuple[str, ...] = ()
    ooo_body: tuple[str, ...] = ()
    ooo_until: tuple[str, ...] = ()
    ooo_back: tuple[str, ...] = ()
    ooo_back_after: tuple[str, ...] = ()
    intent_order: tuple[str, ...] = ()
    intents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    negation_before: tuple[str, ...] = ()
    negation_after: tuple[str, ...] = ()
    negatable: tuple[str, ...] = ()
    negative_negatable: tuple[str, ...] = ()
    negation_negative: tuple[str, ...] = ()
    litotes: tuple[str, ...] = ()
    contrast: tuple[str, ...] = ()
    referral_cues: tuple[str, ...] = ()

    def merged(self, extra: Rules) -> Rules:
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
            ooo_back=extra.ooo_back + self.ooo_back,
            ooo_back_after=self.ooo_back_after + extra.ooo_back_after,
            intent_order=order,
            intents=intents,
            negation_before=self.negation_before + extra.negation_before,
            negation_after=self.negation_after + extra.negation_after,
            negatable=extra.negatable or self.negatable,
            negative_negatable=extra.negative_negatable or self.negative_negatable,
            negation_negative=self.negation_negative + extra.negation_negative,
            litotes=self.litotes + extra.litotes,
            contrast=self.contrast + extra.contrast,
            referral_cues=self.referral_cues + extra.referral_cues,
        )


def load_rules(text: str, *, check: bool = True) -> Rules:
    """Rules from TOML text in the format documented at the top of ``rules.toml``.

    Raises ValueError naming the table and pattern when the TOML or a pattern is invalid.
    ``check=False`` skips compiling each pattern alone to check it (~55 ms for the shipped rules,
    in every process that classifies): only for the shipped file, which the tests check.
    """

    def _patterns(value: object, where: str) -> tuple[str, ...]:
        return _checked_patterns(value, where, check)

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
    negation = data.get("negation", {})
    negatable = negation.get("categories", [])
    if not isinstance(negatable, list) or not all(isinstance(c, str) for c in negatable):
        raise ValueError("negation.categories must be a list of category names")
    negative_negatable = negation.get("negative_categories", [])
    if not isinstance(negative_negatable, list) or not all(isinstance(c, str) for c in negative_negatable):
        raise ValueError("negation.negative_categories must be a list of category names")
    return Rules(
        autoreply_subject=_patterns(auto.get("subject", []), "autoreply.subject"),
        autoreply_body=_patterns(auto.get("body", []), "autoreply.body"),
        ooo_subject=_patterns(ooo.get("subject", []), "out_of_office.subject"),
        ooo_body=_patterns(ooo.get("body", []), "out_of_office.body"),
        ooo_until=_patterns(ooo.get("until", []), "out_of_office.until"),
        ooo_back=_patterns(ooo.get("back", []), "out_of_office.back"),
        ooo_back_after=_patterns(ooo.get("back_after", []), "out_of_office.back_after"),
        intent_order=tuple(order),
        intents=intents,
        negation_before=_patterns(negation.get("before", []), "negation.before"),
        negation_after=_patterns(negation.get("after", []), "negation.after"),
        negatable=tuple(negatable),
        negative_negatable=tuple(negative_negatable),
        negation_negative=_patterns(negation.get("negative_before", []), "negation.negative_before"),
        litotes=_patterns(data.get("litotes", {}).get("words", []), "litotes.words"),
        contrast=_patterns(data.get("contrast", {}).get("words", []), "contrast.words"),
        referral_cues=_patterns(data.get("referral", {}).get("cues", []), "referral.cues"),
    )


# "(?i)" and the like at the start of a pattern: flags for the whole expression.
_GLOBAL_FLAGS = re.compile(r"\(\?[aimsux]+\)")


def _checked_patterns(value: object, where: str, check: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{where} must be a list of strings")
    for pattern in value:
        if any(ord(c) < 32 for c in pattern):
            raise ValueError(f"{where}: pattern {pattern!r} holds a control character (in a "
                             f"double-quoted TOML string \\b is a backspace: use '…' quotes)")
        if not check:
            continue
        folded = fold_pattern(pattern)
        try:
            re.compile(folded)  # every rule is matched folded, never as written
        except re.error as exc:
            raise ValueError(f"{where}: bad pattern {pattern!r}: {exc}") from None
        if _GLOBAL_FLAGS.match(folded):
            # valid alone, but not as one branch of the alternation the rules are matched in
            raise ValueError(f"{where}: pattern {pattern!r} starts with flags such as (?i): "
                             f"rules are matched case-insensitively already")
    return tuple(value)


@cache
def default_rules() -> Rules:
    """The rules shipped in ``app/mail/rules.toml``."""
    return load_rules(shipped_rules_text(), check=False)


def shipped_rules_text() -> str:
    return resources.files("app.mail").joinpath("rules.toml").read_text("utf-8")


def first_match(patterns: tuple[str, ...], text: str, folded: str | None = None,
                text_grams: set[str] | None = None) -> str | None:
    """The text matched by the first pattern that fires in ``text``, or None. Matched
    accent-insensitively like the intent phrases; the result is quoted as written.
    ``folded`` (``fold(text)``) and ``text_grams`` (``grams(folded)``) where the caller has them."""
    ps = folded_phrases(patterns)
    if ps is None or not text:
        return None
    folded = fold(text) if folded is None else folded
    rx = ps.for_text(grams(folded) if text_grams is None else text_grams)
    m = rx.search(folded) if rx is not None else None
    if m is None:
        return None
    start, end = unfold_span(text, m.start(), m.end())
    return text[start:end]


def normalize(text: str) -> str:
    """Text as the rules see it: one line, straight apostrophes."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


# Letters that Unicode does not decompose, spelled the way people without the key type them.
_LETTERS = str.maketrans({"ß": "ss", "ẞ": "SS", "ł": "l", "Ł": "L", "œ": "oe", "Œ": "OE",
                          "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i"})
# The combining diacritical marks NFKD splits off ("é" -> "e" + U+0301).
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# German umlauts are typed as "ae", "oe", "ue" without a German keyboard ("Loeschen", "fuer").
_UMLAUTS = {"ä": "ae?", "ö": "oe?", "ü": "ue?", "Ä": "ae?", "Ö": "oe?", "Ü": "ue?"}


def fold(text: str) -> str:
    """``text`` as intent patterns see it: lower case, without diacritics.

    "Ça ne nous intéresse pas" -> "ca ne nous interesse pas". Compatibility forms are spelled
    out (NFKD: "ﬁ" -> "fi", "…" -> "..."), so the result may be longer than ``text``
    (``unfold_span`` maps positions back). Matching lower case against lower-case patterns,
    rather than with re.IGNORECASE, makes the search several times faster.
    """
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_LETTERS))).lower()


def fold_pattern(pattern: str) -> str:
    """A pattern as it is matched against folded text: 'Löschen' -> 'l(?:oe?)schen'.

    Letters are lower-cased, except escapes ('\\S' stays a non-space); outside a character
    class an umlaut also accepts its two-letter spelling; a diacritic escaped with a backslash
    loses the backslash, which would otherwise escape a plain letter.
    """
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
            if ch.isascii():
                out.append(ch)
                continue
            out.pop()  # "\\é": the backslash would escape the folded "e"
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]" or out[-1] == "["
        elif ch == "[":
            in_class = True
        elif ch in _UMLAUTS:
            out.append(f"(?:{_UMLAUTS[ch]})")
            continue
        out.append(fold(ch))
    return "".join(out)


def unfold_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of ``text`` that ``fold(text)[start:end]`` came from."""
    shift = 0  # position in the folded text minus position in ``text``, so far
    first = last = None
    for m in _NON_ASCII.finditer(text):
        i = m.start()
        at = i + shift  # where this character's folding starts in the folded text
        if first is None and start < at:
            first = start - shift
        if end <= at:
            last = end - shift
            break
        width = _width(m.group())
        if first is None and start < at + width:
            first = i
        if end <= at + width:
            last = i + 1
            break
        shift += width - 1
    first = start - shift if first is None else first
    last = end - shift if last is None else last
    return first, max(first, last)


@cache
def _width(ch: str) -> int:
    """How many characters ``ch`` folds to: 1 mostly, 0 for a combining mark, 2 for "ß"."""
    return len(fold(ch))


@by_identity
@cache
def compiled_folded(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the folded ``patterns``, compiled once per rule set, for folded text:
    matched case-sensitively (both sides are lower case already)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fold_pattern(p)})" for p in patterns))


@by_identity
@cache
def folded_phrases(patterns: tuple[str, ...]) -> Phrases | None:
    """``compiled_folded(patterns)``, narrowed to the phrases a text can hold (``phrases``)."""
    return Phrases(tuple(fold_pattern(p) for p in patterns)) if patterns else None


@by_identity
@cache
def compiled_words(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """``compiled_folded`` as whole words only: 'no' fires on "no" and not on "now" or "nos"."""
    rx = compiled_folded(patterns)
    return None if rx is None else re.compile(rf"(?<!\w)(?:{rx.pattern})(?!\w)")
