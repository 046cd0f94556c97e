"""classify(message) -> bounce, auto-reply or human, with the category and the reasons why."""

from __future__ import annotations

from app.mail import autoreply, bounce
from app.mail.intent import read_intent
from app.mail.rules import Rules, default_rules
from app.mail.types import Classification, ParsedMessage

BOUNCE_THRESHOLD = 0.5
AUTOREPLY_THRESHOLD = 0.5


def classify(message: ParsedMessage, rules: Rules | None = None) -> Classification:
    """Classify a parsed message. ``rules`` (from ``load_rules``) are added to the shipped ones.

    Pure and total: any failure inside degrades to an uncategorized human reply with the
    error as its reason, so one odd message never stops an inbox sync.
    """
    active = default_rules() if rules is None else default_rules().merged(rules)
    try:
        return _classify(message, active)
    except Exception as exc:
        return Classification(kind="human", category="uncategorized", confidence=0.0,
                              reasons=[f"classifier error: {type(exc).__name__}"])


def _classify(pm: ParsedMessage, rules: Rules) -> Classification:
    if bounce.is_candidate(pm):
        report = bounce.analyze(pm)
        if report.from_mail_system and report.score >= BOUNCE_THRESHOLD:
            return Classification(kind="bounce", category="bounce",
                                  confidence=round(report.score, 2), reasons=report.reasons,
                                  bounce_recipients=report.recipients)
    auto = autoreply.analyze(pm, rules)
    if auto.score >= AUTOREPLY_THRESHOLD:
        return Classification(
            kind="autoreply", category="out_of_office" if auto.out_of_office else "auto_reply",
            confidence=auto.score, reasons=auto.reasons, ooo_until=auto.until,
            referral=auto.referral)
    category, confidence, reasons = read_intent(pm, rules)
    return Classification(
        kind="human", category=category, confidence=confidence, reasons=reasons,
        referral=autoreply.referral(pm) if category == "wrong_person" else None)
