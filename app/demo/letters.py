"""Raw messages for the demo: cold emails, human replies, absence notices, DSN bounces, one
broken message. Each reply threads to its cold email (In-Reply-To and References), as real
mail clients and MTAs do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from app.demo.scenario import Prospect, Reply, Sender

CRLF = "\r\n"


@dataclass(frozen=True)
class Letter:
    message_id: str
    subject: str
    raw: bytes
    when: datetime


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


def _message(from_: str, to: str, subject: str, when: datetime, text: str, *,
             in_reply_to: str | None = None, references: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[str, EmailMessage]:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    message_id = make_msgid(domain=_domain(from_.rsplit("<", 1)[-1].rstrip(">")))
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = f"{references} {in_reply_to}" if references else in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    return message_id, msg


def cold_email(sender: Sender, prospect: Prospect, when: datetime) -> Letter:
    c = sender.campaign
    subject = c.subject.format(company=prospect.company)
    body = c.body.format(first=prospect.first, company=prospect.company, sender=sender.first)
    mid, msg = _message(formataddr((sender.name, sender.email)), formataddr((prospect.name, prospect.email)),
                        subject, when, body)
    return Letter(mid, subject, msg.as_bytes(), when)


_QUOTE_INTRO = {
    "en": "On {date}, {who} wrote:",
    "de": "Am {date} schrieb {who}:",
    "fr": "Le {date}, {who} a écrit :",
    "es": "El {date}, {who} escribió:",
}
_OOO_SUBJECT = {
    "en": "Automatic reply: {subject}",
    "de": "Abwesenheitsnotiz: {subject}",
    "fr": "Réponse automatique : {subject}",
    "es": "Respuesta automática: {subject}",
}


def _quoted(sender: Sender, cold: Letter, language: str) -> str:
    original = message_from_bytes(cold.raw, policy=policy.default)
    text = original.get_content()
    intro = _QUOTE_INTRO.get(language, _QUOTE_INTRO["en"]).format(
        date=format_datetime(cold.when), who=formataddr((sender.name, sender.email)))
    return intro + "\n" + "".join(f"> {line}\n" for line in text.splitlines())


def reply(spec: Reply, sender: Sender, prospect: Prospect, cold: Letter, when: datetime) -> bytes:
    """The raw message ``spec`` describes, answering ``cold``."""
    if spec.kind in ("hard_bounce", "soft_bounce"):
        return _bounce(sender, prospect, cold, when, hard=spec.kind == "hard_bounce")
    if spec.kind == "malformed":
        return _malformed(sender, prospect, cold, spec.body, when)
    from_ = formataddr((prospect.name, prospect.email))
    if spec.kind == "ooo":
        subject = _OOO_SUBJECT.get(spec.language, _OOO_SUBJECT["en"]).format(subject=cold.subject)
        headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
        _, msg = _message(from_, sender.email, subject, when, spec.body, in_reply_to=cold.message_id,
                          headers=headers)
        return msg.as_bytes()
    text = spec.body + "\n" + _quoted(sender, cold, spec.language)
    _, msg = _message(from_, formataddr((sender.name, sender.email)), f"Re: {cold.subject}", when, text,
                      in_reply_to=cold.message_id)
    return msg.as_bytes()


def answer_back(prospect: Prospect, received: bytes, text: str, when: datetime) -> bytes:
    """A prospect's answer to a reply they received (``received``, as it reached them)."""
    got = message_from_bytes(received, policy=policy.default)
    subject = str(got.get("Subject", ""))
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    to = str(got.get("From", ""))
    mid = str(got.get("Message-ID", "")) or None
    refs = str(got.get("References", "")) or None
    _, msg = _message(formataddr((prospect.name, prospect.email)), to, subject, when, text,
                      in_reply_to=mid, references=refs)
    return msg.as_bytes()


def _bounce(sender: Sender, prospect: Prospect, cold: Letter, when: datetime, *, hard: bool) -> bytes:
    mta = f"mx1.{_domain(sender.email)}"
    boundary = "=_report_" + cold.message_id.strip("<>").split("@")[0][-12:]
    if hard:
        status, action = "5.1.1", "failed"
        diagnostic = f"smtp; 550 5.1.1 <{prospect.email}>: Recipient address rejected: User unknown"
        human = (f"I'm sorry to have to inform you that your message could not be delivered to one or\n"
                 f"more recipients.\n\n<{prospect.email}>: host mx.{_domain(prospect.email)} said:\n"
                 f"    550 5.1.1 <{prospect.email}>: Recipient address rejected: User unknown")
        subject = "Undelivered Mail Returned to Sender"
    else:
        status, action = "4.2.2", "delayed"
        diagnostic = f"smtp; 452 4.2.2 <{prospect.email}>: Mailbox full, over quota"
        human = (f"Your message to <{prospect.email}> has not been delivered yet: the recipient's\n"
                 f"mailbox is full. Delivery will be retried for 5 days.\n\n"
                 f"    452 4.2.2 <{prospect.email}>: Mailbox full, over quota")
        subject = "Delayed Mail (still being retried)"
    original_headers = cold.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = [
        f"From: Mail Delivery System <MAILER-DAEMON@{mta}>",
        f"To: {sender.email}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {make_msgid(domain=mta)}",
        f"In-Reply-To: {cold.message_id}",
        f"References: {cold.message_id}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is the mail system at host {mta}.",
        "",
        human,
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {mta}",
        f"Arrival-Date: {format_datetime(cold.when)}",
        "",
        f"Final-Recipient: rfc822; {prospect.email}",
        f"Original-Recipient: rfc822; {prospect.email}",
        f"Action: {action}",
        f"Status: {status}",
        f"Remote-MTA: dns; mx.{_domain(prospect.email)}",
        f"Diagnostic-Code: {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        original_headers.replace("\r\n", "\n"),
        "",
        f"--{boundary}--",
        "",
    ]
    return CRLF.join("\n".join(lines).split("\n")).encode("utf-8")


def _malformed(sender: Sender, prospect: Prospect, cold: Letter, text: str, when: datetime) -> bytes:
    """What a broken mail client sends: an unknown charset, a missing closing boundary, bad
    base64 and raw 8-bit bytes in a header. The inbox must still show something readable."""
    head = (
        f"From: {prospect.name} <{prospect.email}>\r\n"
        f"To: {sender.email}\r\n"
        f"Subject: Re: {cold.subject} \xe2\x80\x94 resposta\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: <broken-{cold.message_id.strip('<>')}>\r\n"
        f"In-Reply-To: {cold.message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="outer-boundary"\r\n'
        "\r\n"
        "--outer-boundary\r\n"
        "Content-Type: text/plain; charset=x-unknown-legacy\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
    ).encode("latin-1")
    body = text.encode("utf-8") + b" =E9=\r\n=ZZ sobre os candidatos.\r\n\r\n"
    tail = (b"--outer-boundary\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"\r\n"
            b"PGh0bWw+PGJvZHk+PHA+T2zDoSBKdWxpYSE8L3A+!!not-base64!!\r\n"
            b"--wrong-boundary\r\n")
    return head + body + tail
