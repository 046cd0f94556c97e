"""The phrase rules of ``rules.toml``, compiled, and a user's additions merged in.

``load_rules`` takes TOML text, not a path: reading files is the caller's business (the CLI
reads ``--rules``), which keeps this package free of IO beyond its own shipped data.

Intent phrases are matched accent-insensitively (app.mail.folding): the reply is folded once and
every pattern once, when it is compiled, so "nao temos interesse" meets 'não temos interesse' and
"Loeschen" meets 'löschen' in every language.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from app.mail.folding import fold_pattern


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
_CONTROL = re.compile(r"[\x00-\x1f]")
"""A control character (a backspace where ``\\b`` was meant in a double-quoted TOML string)."""


def _checked_patterns(value: object, where: str, check: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{where} must be a list of strings")
    for pattern in value:
        if _CONTROL.search(pattern):
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
