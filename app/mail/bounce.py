"""Delivery failures: which recipients bounced, with what status and reason, hard or soft.

Sources, most precise first: the RFC 3464 delivery-status part (per-recipient Action and
Status); flufl.bounce, whose detectors know two decades of non-standard MTA formats (Exim,
qmail, Postfix, Yahoo, old Exchange …); then, where neither names anyone, the fallbacks of
``bounce_rcpt`` (X-Failed-Recipients, recipient fields, the notice's diagnostic lines, the
returned message's To/Cc), with the mailbox's Sent folder breaking ties. Status codes that the
DSN does not give are looked for next to the address in the text; ``bounce_reason`` names the
reason. Abuse reports (ARF) are complaints (``complaint``).

Why not flufl.bounce alone: on the shared corpus it finds the right addresses (114/115 exact)
and tells temporary from permanent, but gives no status codes or server words, takes an
obfuscated "david...@gmail.com" for an address, says nothing about bounces that name no
address, and misses today's Microsoft 365 NDR (tests/fixtures/mail/exchange_ndr.eml).
"""

from __future__ import annotations

import email.message
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import flufl.bounce

from app.mail import bounce_rcpt, complaint
from app.mail.bounce_rcpt import SentTo, clean_address, valid_address
from app.mail.bounce_reason import FINAL_REASONS, by_first_letter, reason_for
from app.mail.caseless import Caseless
from app.mail.headers import decode_header, parse_addresses
from app.mail.parse import library_message
from app.mail.thread import added_subject, is_reply_subject
from app.mail.types import BounceRecipient, ParsedMessage

try:
    from app.mail import bounce_scan
    all_failures = bounce_scan.all_failures if bounce_scan.FOLLOWS else flufl.bounce.all_failures
except (ImportError, AttributeError):  # a flufl.bounce without the private names the quick scan reads
    all_failures = flufl.bounce.all_failures

# flufl.bounce logs a full traceback before re-raising a detector's error; we degrade instead.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?|"
                     r"mail\.delivery|maildelivery|nobody|mdaemon)\b", re.IGNORECASE)
_SENDER_NAME_WORDS = (r"mail delivery (?:subsystem|system|service)|mailer[- ]daemon|"
                      r"postmaster|microsoft outlook|mail administrator|courier mail server")
_SUBJECT_WORDS = (
    r"undeliver|undelivered|delivery (?:status notification|failure|failed|has failed|problem)|"
    r"mail delivery (?:failed|failure|warning|delayed)|returned mail|failure notice|"
    r"non[- ]?deliver|could not (?:be )?(?:send|sent|delivered)|delivery (?:delayed|warning)|"
    r"message (?:not delivered|delayed)|delivery report|rejected:|mail delivery status|"
    r"unzustellbar|nicht zustellbar|non remis|non distribu|no se puede entregar|"
    r"no entregado|n[ãa]o entregue|mancato recapito|non recapitabile|onbestelbaar|"
    r"niedostarczon|warning: message|delayed mail")
# Looked for in every message's sender and subject: searched case-blind the cheap way, their
# alternatives grouped by first letter, as the body's words below (about a quarter of the time
# of an IGNORECASE search of the words as written; tests/test_mail_properties.py holds both to
# that search)
_SENDER_NAME = Caseless(by_first_letter(_SENDER_NAME_WORDS))
_SUBJECT = Caseless(by_first_letter(_SUBJECT_WORDS))
_BODY_WORDS = (
    r"could(?:not| not|n't) be delivered|can(?:not| not|n't) be delivered|wasn't delivered|was not delivered|"
    r"permanent(?:ly)? (?:error|fatal|failure)|delivery to the following recipient|"
    r"user unknown|unknown user|no such user|mailbox (?:unavailable|not found|full|is full)|"
    r"address rejected|recipient address rejected|does not exist|"
    r"the following addresses? had permanent|delivery has failed|undeliverable|"
    r"message could not be delivered|unable to deliver|this is the mail system at host|"
    r"i'm afraid i wasn't able to deliver|remote server returned|"
    r"has not yet been delivered|will (?:continue|keep) (?:trying|to try)|still trying|"
    r"will be retried|delivery (?:attempts|has been) (?:will continue|delayed)")
_BODY = Caseless(by_first_letter(_BODY_WORDS))
"""``_BODY_WORDS`` with the alternatives of one first letter written as one (the engine tries at
each position only those of the letter there): every alternative starts with a letter, so at
each position the same ones are tried in the same order, and the same text is matched
(tests/test_mail_properties.py holds it to the words as written)."""
_TEMPORARY = re.compile(
    r"\bdelay(?:ed)?\b|has not yet been delivered|not been delivered yet|will (?:continue|keep) "
    r"(?:trying|to try)|still (?:be )?trying|will be retried|will retry|warning: message|"
    r"mail delivery warning|transient|temporar", re.IGNORECASE)
# Where non-DSN notices name the failed address: Microsoft 365, Gmail, Exim, Postfix, Yahoo,
# MDaemon. Used only when neither the DSN nor flufl.bounce found anyone.
_TEXT_RECIPIENT = re.compile(
    r"your message to (?P<a1>[^\s@]{1,64}@\S{1,255}?) (?:couldn't|could not|can't|cannot) be delivered|"
    r"(?:wasn't|was not|couldn't be|could not be) delivered to (?P<a2>[^\s@]{1,64}@[^\s,;]{1,255}?)[\s.,;]|"
    r"delivery to the following recipients? (?:failed|has failed)[^:\n]{0,200}:\s{0,40}"
    r"<?(?P<a3>[^\s<>@]{1,64}@[^\s<>]{1,255})|"
    r"the following address(?:es)? failed:\s{0,40}<?(?P<a4>[^\s<>@]{1,64}@[^\s<>]{1,255})|"
    r"failed to deliver to '(?P<a5>[^'@]{1,64}@[^']{1,255})'|"
    r"^[ \t]{0,40}<(?P<a6>[^\s<>@]{1,64}@[^\s<>]{1,255})>:\s",
    re.IGNORECASE | re.MULTILINE)
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
# An enhanced status code (not inside a longer run of digits and dots), and an SMTP reply code.
# Each starts with its first digit and looks behind it only then: a pattern that starts with a
# look-behind is tried at every position of the text, one that starts with a digit skips to the
# next such digit. tests/test_mail_properties.py holds them to the look-behind-first spelling.
_STATUS = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"([45])(?<!\d[45])\d\d(?=[\s-])")


@dataclass
class BounceReport:
    recipients: list[BounceRecipient] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    from_mail_system: bool = False
    """A signal no person's reply carries: a DSN, a mail-system sender, an NDR header or
    subject. Wording in the body alone is not enough: people write "could not be delivered"."""
    kind: str = "bounce"
    """``bounce``, or ``complaint`` for an abuse feedback report (ARF, RFC 5965)."""
    unnamed: list[tuple[str, str | None, str]] = field(default_factory=list)
    """Recipient blocks of the DSN that name no recipient: (action, status, diagnostic)."""


def _mail_system_sender(pm: ParsedMessage) -> str | None:
    """The sender, when it is the mail system (MAILER-DAEMON, postmaster, the null address)."""
    raw_from = pm.headers.get("from", "")
    sender = pm.from_.email if pm.from_ else raw_from
    if _SENDER.match(sender) or _SENDER_NAME.span(raw_from) is not None:
        return sender
    return "the null address <>" if "<>" in raw_from else None


def _bounce_subject(pm: ParsedMessage) -> bool:
    """Bounce wording in the subject, unless it is only in the subject a reply answers
    ("Re: Cutting delivery failures in your warehouse", sent with In-Reply-To, is a person's)."""
    answering = is_reply_subject(pm.subject) and (pm.in_reply_to or pm.references)
    subject = added_subject(pm.subject) if answering else pm.subject
    return _SUBJECT.span(subject) is not None


def is_candidate(pm: ParsedMessage) -> bool:
    """Cheap test run before the costlier bounce analysis: does anything hint at a bounce?

    Bounce wording in the body hints at one too, but the analysis finds a notice from the mail
    system (``BounceReport.from_mail_system``, without which no bounce is filed) only by the
    signals above it or by two more: a delivery-status part anywhere in the message, or an
    Auto-Submitted header. Where neither is there, the wording is not looked for: it cannot make
    a bounce, and the look took a sixteenth of classifying a reply."""
    h = pm.headers
    ctype = h.get("content-type", "").lower()
    if ("report" in ctype or "delivery-status" in ctype
            or "x-failed-recipients" in h or "x-ms-exchange-message-is-ndr" in h
            or _mail_system_sender(pm) or _bounce_subject(pm)):
        return True
    # (a message whose structure is not known: looked at as before)
    if pm.structure and "delivery-status" not in pm.structure and "auto-submitted" not in h:
        return False
    return _bounce_wording(pm.text) is not None


def _bounce_wording(text: str) -> str | None:
    """The first bounce wording (``_BODY``) in the first 20,000 characters of ``text``, as written."""
    text = text[:20000]
    span = _BODY.span(text)
    return text[span[0]:span[1]] if span else None


def analyze(pm: ParsedMessage, sent_to: SentTo | None = None) -> BounceReport:
    """Find the failed recipients of a message that may be a bounce. Never raises.

    ``sent_to`` tells whether the mailbox sent mail to an address (its synced Sent folder):
    where only the notice's wording or the returned message's headers name the recipient, the
    addresses it confirms are preferred."""
    report = BounceReport()
    try:
        msg = library_message(pm)
    except Exception:
        return report
    parts = list(_walk(msg))
    if complaint.is_feedback_report(msg, parts):
        report.recipients, feedback = complaint.complainants(pm, parts)
        report.kind = "complaint"
        report.from_mail_system = True
        report.score = 1.0
        report.reasons.append(f"abuse feedback report (ARF): {feedback}")
        return report
    found: dict[str, BounceRecipient] = {}
    dsn_seen = _from_dsn(parts, found, report)
    text = pm.text
    delay = bool(_TEMPORARY.search(pm.subject))
    if found:  # the DSN is exact: nothing else to look at
        return _finish(pm, report, found, dsn_seen)
    returned = bounce_rcpt.returned_part(parts)
    lines: list[str] | None = None
    cut = 0
    if returned is None:  # a copy inline in the text, if any
        lines = bounce_rcpt.text_lines(text)
        cut = bounce_rcpt.inline_start(lines)
        returned = bounce_rcpt.inline_headers(lines, cut)
    own = bounce_rcpt.own_addresses((a.email for a in pm.to), returned)
    # flufl.bounce only when the DSN named nobody: it is the slowest step.
    temporary, permanent = _from_flufl(msg, report)
    for addr in sorted(permanent | temporary):
        if addr.lower() in own or bounce_rcpt.is_system(addr):
            continue
        status, diagnostic = _dsn_or_text_status(report, text, addr)
        # An MTA that gave up after retrying ("I'm not going to try again") reports a 4.x.x
        # code on a final failure: the address is dead all the same, so it counts as hard.
        hard = addr in permanent and not delay
        found[addr] = BounceRecipient(address=addr, status=status, hard=hard, diagnostic=diagnostic,
                                      reason=_reason(status, diagnostic, text, addr))
    if not found and _system_signal(pm, dsn_seen):
        if lines is None:
            lines = bounce_rcpt.text_lines(text)
            cut = bounce_rcpt.inline_start(lines)
        _from_fallbacks(pm, lines[:cut], returned, own, sent_to, delay, found, report)
    return _finish(pm, report, found, dsn_seen)


def _finish(pm: ParsedMessage, report: BounceReport, found: dict[str, BounceRecipient],
            dsn_seen: bool) -> BounceReport:
    report.recipients = list(found.values())
    report.score = _score(pm, report, dsn_seen)
    h = pm.headers
    report.from_mail_system = bool(
        dsn_seen or _mail_system_sender(pm) or _bounce_subject(pm)
        or "x-ms-exchange-message-is-ndr" in h or "x-failed-recipients" in h
        or "auto-submitted" in h)
    return report


def _system_signal(pm: ParsedMessage, dsn_seen: bool) -> bool:
    """Signals strong enough to read addresses out of the notice's text (an auto-reply's
    Auto-Submitted header alone is not: an absence notice names colleagues)."""
    h = pm.headers
    return bool(dsn_seen or _mail_system_sender(pm) or _bounce_subject(pm)
                or "x-ms-exchange-message-is-ndr" in h or "x-failed-recipients" in h)


_STAGES = ("X-Failed-Recipients header", "recipient field in the notice text",
           "failed address named in the notice text", "To/Cc of the returned message")
WEAK_STAGES = _STAGES[2:]
"""Reasons naming a recipient read loosely (the words, the returned headers): where the
mailbox's Sent folder may later tell which of several candidates it wrote to."""


def _from_fallbacks(pm: ParsedMessage, lines: list[str], returned: email.message.Message | None,
                    own: set[str], sent_to: SentTo | None, delay: bool,
                    found: dict[str, BounceRecipient], report: BounceReport) -> None:
    """The recipient where neither the DSN nor flufl.bounce named one: the headers and fields
    that say so first, then the notice's words and the returned message's headers, where the
    mailbox's Sent folder (``sent_to``) confirms or breaks ties."""
    text = pm.text
    strong = [_header_failures(pm), bounce_rcpt.field_recipients(lines, returned)]
    weak = [_text_failures("\n".join(lines)) + bounce_rcpt.diagnostic_recipients(lines),
            bounce_rcpt.returned_recipients(returned)]
    chosen, stage = bounce_rcpt.choose(strong, own, None, valid_address, clean_address)
    if not chosen:
        domains = frozenset(a.email.lower().rpartition("@")[2] for a in pm.to)
        chosen, stage = bounce_rcpt.choose(weak, own, sent_to, valid_address, clean_address, domains)
        stage += len(strong) if chosen else 0
    failed = bool(report.unnamed) and report.unnamed[0][0] == "failed"
    for addr in chosen:
        status, diagnostic = _dsn_or_text_status(report, text, addr)
        reason = _reason(status, diagnostic, text, addr)
        if reason == "other":  # named only in the returned headers: the notice's words say why
            reason = reason_for(status, "\n".join(lines)[:WORDS_NEAR * 3])
        if status:
            hard = failed or (not status.startswith("4") and not delay)
        else:
            hard = reason in FINAL_REASONS or (reason not in _SOFT_REASONS and not delay)
        found[addr] = BounceRecipient(address=addr, status=status, diagnostic=diagnostic, hard=hard,
                                      reason=reason)
    if chosen:
        report.reasons.append(_STAGES[stage])


def _dsn_or_text_status(report: BounceReport, text: str,
                        addr: str) -> tuple[str | None, str | None]:
    """The status of a DSN block that named nobody (exact, where there is one), else the code
    next to the address in the notice's text."""
    status, diagnostic = _status_near(text, addr)
    if report.unnamed and report.unnamed[0][1]:
        return report.unnamed[0][1], report.unnamed[0][2] or diagnostic
    return status, diagnostic


_SOFT_REASONS = frozenset({"mailbox_full", "rate_limited", "system_error", "expired"})


def _reason(status: str | None, diagnostic: str | None, text: str, addr: str) -> str:
    """From the server's line, else from the notice's words around the address."""
    reason = reason_for(status, diagnostic or "")
    return reason_for(status, _words_near(text, addr)) if reason == "other" else reason


def _words_near(text: str, addr: str) -> str:
    """The line naming ``addr`` and a few lines under it: where notices say why it failed."""
    at = _lowered(text).find(addr.lower())
    if at < 0:
        return text[:WORDS_NEAR]
    start = text.rfind("\n", 0, at) + 1
    return text[start:at + len(addr) + WORDS_NEAR]


WORDS_NEAR = 320


def _from_dsn(parts: list[email.message.Message], found: dict[str, BounceRecipient],
              report: BounceReport) -> bool:
    """Read per-recipient blocks of every message/delivery-status part (RFC 3464)."""
    seen = False
    for part in parts:
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        seen = True
        blocks = _dsn_blocks(part)
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            if not isinstance(block, email.message.Message):
                continue
            action = decode_header(block.get("action")).lower()
            if action in ("delivered", "relayed", "expanded"):
                continue
            # The original recipient is the address we wrote to; the final one may be an alias.
            candidates = [clean_address(decode_header(block.get(name)))
                          for name in ("original-recipient", "final-recipient") if block.get(name)]
            addr = next((a for a in candidates if valid_address(a)), "")
            diagnostic = decode_header(block.get("diagnostic-code"))
            diagnostic = re.sub(r"^\s*(?:smtp|x-[\w-]+)\s*;\s*", "", diagnostic, flags=re.IGNORECASE)
            m = _STATUS.search(decode_header(block.get("status"))) or _STATUS.search(diagnostic)
            status = ".".join(m.groups()) if m else None
            if not addr:
                # a block without Final-Recipient still tells how the failure went (Amazon
                # WorkMail, IIS): the recipient named elsewhere takes its status
                if status or action:
                    report.unnamed.append((action, status, diagnostic[:200]))
                continue
            # "failed" is final even with a 4.x.x code (the MTA gave up retrying).
            hard = action == "failed" or (action != "delayed" and not (status or "").startswith("4"))
            found[addr] = BounceRecipient(address=addr, status=status, hard=hard,
                                          diagnostic=diagnostic[:200] or None,
                                          reason=reason_for(status, diagnostic))
            report.reasons.append(f"delivery status: {addr} {action or 'failed'} {status or ''}".strip())
    return seen


def _dsn_blocks(part: email.message.Message) -> list[email.message.Message]:
    """The header blocks of a delivery-status part: per-message fields, then one per recipient.

    The library splits message/delivery-status into blocks itself, but reads
    message/global-delivery-status (RFC 6533) as one message whose body holds the recipient
    blocks, and leaves a damaged part as text; both are split here.
    """
    payload = part.get_payload()
    if isinstance(payload, str):
        return _split_blocks(part)
    blocks = [b for b in payload if isinstance(b, email.message.Message)] \
        if isinstance(payload, list) else []
    if len(blocks) == 1 and not blocks[0].is_multipart():
        blocks += _split_blocks(blocks[0])
    return blocks


def _split_blocks(part: email.message.Message) -> list[email.message.Message]:
    # Raw bytes, then UTF-8 (RFC 6533): the library's text view has already replaced 8-bit bytes.
    data = part.get_payload(decode=True)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    return [email.message_from_string(b) for b in _BLANK_LINE.split(text) if b.strip()]


def _from_flufl(msg: email.message.Message, report: BounceReport) -> tuple[set[str], set[str]]:
    try:
        temporary, permanent = all_failures(msg)
    except Exception:
        return set(), set()

    def clean(items: Iterable[object]) -> set[str]:
        out: set[str] = set()
        for item in items:
            addr = clean_address(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item))
            if valid_address(addr):
                out.add(addr)
        return out

    temp, perm = clean(temporary), clean(permanent)
    if temp or perm:
        report.reasons.append(f"MTA bounce format: {len(perm)} permanent, {len(temp)} temporary")
    return temp, perm


def _text_failures(text: str) -> list[str]:
    out: list[str] = []
    for m in _TEXT_RECIPIENT.finditer(text[:20000]):
        addr = clean_address(next(g for g in m.groups() if g))
        if valid_address(addr) and addr.lower() not in (a.lower() for a in out):
            out.append(addr)
    return out


def _header_failures(pm: ParsedMessage) -> list[str]:
    value = pm.headers.get("x-failed-recipients", "")
    return [a.email for a in parse_addresses(value) if valid_address(a.email)]


@lru_cache(maxsize=1)
def _lowered(text: str) -> str:
    """``text.lower()``, once per notice: each failed address looks for itself in it."""
    return text.lower()


def _status_near(text: str, addr: str) -> tuple[str | None, str | None]:
    """An enhanced status code (or a bare SMTP code's class) in the lines around ``addr``,
    and the line it was found on: the server's own words for the failure."""
    at = _lowered(text).find(addr.lower())
    start = 0 if at < 0 else max(0, at - 300)
    window = text[start:start + 4000] if at < 0 else text[start:at + 600]
    m = _STATUS.search(window)
    status = ".".join(m.groups()) if m else None
    if m is None:
        m = _SMTP_CODE.search(window)
        status = f"{m.group(1)}.0.0" if m else None
    if m is None:
        return None, None
    line_start = window.rfind("\n", 0, m.start()) + 1
    line_end = window.find("\n", m.end())
    line = window[line_start:line_end if line_end >= 0 else None]
    return status, " ".join(line.split())[:200] or None


def _walk(msg: email.message.Message, limit: int = 200) -> Iterator[email.message.Message]:
    stack, count = [msg], 0
    while stack and count < limit:
        part = stack.pop()
        count += 1
        yield part
        if part.is_multipart() and part.get_content_type() not in (
                "message/delivery-status", "message/global-delivery-status", "message/rfc822",
                "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, email.message.Message)]))


def _score(pm: ParsedMessage, report: BounceReport, dsn_seen: bool) -> float:
    """How sure we are that this is a bounce, from 0 to 1, with the signals as reasons."""
    h = pm.headers
    score = 0.0
    if report.recipients:
        score += 0.6
    if dsn_seen:
        score += 0.3
        report.reasons.append("multipart/report with a delivery-status part")
    sender = _mail_system_sender(pm)
    if sender:
        score += 0.3
        report.reasons.append(f"sent by {sender}")
    if "x-ms-exchange-message-is-ndr" in h:
        score += 0.4
        report.reasons.append("Microsoft NDR header")
    if _bounce_subject(pm):
        score += 0.3
        report.reasons.append(f"bounce subject: {pm.subject[:60]!r}")
    body = _bounce_wording(pm.text)
    if body is not None:
        score += 0.2
        report.reasons.append(f"bounce wording: {body!r}")
    return min(score, 1.0)
