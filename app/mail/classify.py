"""classify(message) -> its kind (reply, bounce, autoreply, warmup, internal, bulk), the category
and the reasons why.

Noise is decided before intent: warmup mail first (its tag wins over everything, so a bounce or
an auto-answer inside a warmup thread stays the warmup tool's), then bounces and automatic
answers, then mail from the user's own mailboxes and bulk mail; what is left is a reply, whose
intent is read last. The warmup tags and the user's own addresses come in a ``NoiseContext``.
"""

from __future__ import annotations

from typing import Final

from app.mail import autoreply, bounce, intent, noise
from app.mail.bounce_rcpt import SentTo
from app.mail.intent import read
from app.mail.learn import Examples
from app.mail.noise import NoiseContext
from app.mail.phrases import Chooser
from app.mail.rules import Rules, default_rules
from app.mail.types import Classification, ParsedMessage

BOUNCE_THRESHOLD: Final = 0.5
AUTOREPLY_THRESHOLD: Final = 0.5


def classify(message: ParsedMessage, rules: Rules | None = None,
             context: NoiseContext | None = None, *, sent_to: SentTo | None = None,
             examples: Examples | None = None) -> Classification:
    """Classify a parsed message. ``rules`` (from ``load_rules``) are added to the shipped ones;
    ``context`` names the warmup tags and the user's own addresses (none by default);
    ``sent_to`` (whether the mailbox wrote to an address) picks a bounce's recipient where the
    notice leaves it open; ``examples``, the user's labelled replies (``learn.Examples``), decide
    a reply's intent where the rules are unsure.

    Pure and total: any failure inside degrades to an uncategorized reply with the error as its
    reason, so one odd message never stops an inbox sync.
    """
    try:
        return _classify(message, _active(rules), context or noise.EMPTY, sent_to, examples)
    except Exception as exc:
        return Classification(kind="reply", category="uncategorized", confidence=0.0,
                              reasons=[f"classifier error: {type(exc).__name__}"])


# Mail of each kind the classifier knows, read once by ``warm_up``.
_SAMPLES: Final = (
    b"From: Pat <pat@prospect.example>\r\nTo: me@example.com\r\nSubject: Re: Quick question\r\n"
    b"Message-ID: <1@prospect.example>\r\nIn-Reply-To: <0@example.com>\r\n\r\n"
    b"Thanks, sounds interesting. Could you send pricing? Not now, maybe next quarter; please "
    b"talk to my colleague sam@prospect.example.\r\n\r\nOn Mon, Jan 5, 2026, Me wrote:\r\n> Hi Pat\r\n",
    b"From: Pat <pat@prospect.example>\r\nTo: me@example.com\r\nSubject: Automatic reply: Quick question\r\n"
    b"Auto-Submitted: auto-replied\r\n\r\nI am out of the office until Monday, January 12 with limited "
    b"access to email.\r\n",
    b"From: Mail Delivery Subsystem <mailer-daemon@example.com>\r\nTo: me@example.com\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: text/plain\r\n\r\n<pat@prospect.example>: host mx.prospect.example said: "
    b"550 5.1.1 user unknown\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; pat@prospect.example\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n",
)


def warm_up(rules: Rules | None = None) -> list[str]:
    """Build what the classifier builds on first use (its phrase alternations, ~0.2 s) and the
    phrases it searches one by one in replies of new wording, so a process that is about to read
    mail does it before the mail arrives. Returns the kinds read."""
    from app.mail.parse import parse

    kinds = [classify(parse(raw), rules).kind for raw in _SAMPLES]
    active = _active(rules)
    autoreply.prepare(active)
    intent.prepare(active)
    return kinds


def _active(rules: Rules | None) -> Rules:
    """The shipped rules, with the user's ``rules`` added where there are any: the same object
    for the same ``rules`` (a parse worker's, kept for every message), whose phrase sets choose
    their phrases together (``phrases.Chooser``), made once."""
    if rules is None:
        rules = default_rules()
    known = _actives.get(id(rules))
    if known is not None and known[0] is rules:
        return known[1]
    active = rules if rules is default_rules() else default_rules().merged(rules)
    Chooser([*autoreply.phrase_sets(active), *intent.phrase_sets(active)])
    if len(_actives) >= 16:
        _actives.clear()
    _actives[id(rules)] = (rules, active)
    return active


_actives: Final[dict[int, tuple[Rules, Rules]]] = {}
"""The active rules made from the rules given (``_active``), by the given ones' identity."""


def _classify(pm: ParsedMessage, rules: Rules, ctx: NoiseContext,
              sent_to: SentTo | None = None, examples: Examples | None = None) -> Classification:
    warmup = noise.warmup_reason(ctx, pm.subject, pm.new_text, pm.quoted_text)
    if warmup:
        return Classification(kind="warmup", category="warmup", confidence=1.0, reasons=[warmup])
    if bounce.is_candidate(pm):
        report = bounce.analyze(pm, sent_to)
        if report.from_mail_system and report.score >= BOUNCE_THRESHOLD:
            return Classification(kind=report.kind, category=report.kind,
                                  confidence=round(report.score, 2), reasons=report.reasons,
                                  bounce_recipients=report.recipients)
    auto = autoreply.analyze(pm, rules, AUTOREPLY_THRESHOLD)
    if auto.score >= AUTOREPLY_THRESHOLD:
        return Classification(
            kind="autoreply", category="out_of_office" if auto.out_of_office else "auto_reply",
            confidence=auto.score, reasons=auto.reasons, ooo_until=auto.until,
            referral=autoreply.referral(pm))
    internal = noise.internal_reason(ctx, pm)
    if internal:
        return Classification(kind="internal", category="internal", confidence=1.0, reasons=[internal])
    bulk = noise.bulk_reason(pm)
    if bulk:
        return Classification(kind="bulk", category="bulk", confidence=0.9, reasons=[bulk])
    reading = read(pm, rules, examples)
    return Classification(
        kind="reply", category=reading.category, confidence=reading.confidence, reasons=reading.reasons,
        referral=(reading.referral or autoreply.referral(pm)) if reading.category == "wrong_person" else None)
