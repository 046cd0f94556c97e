"""Abuse feedback reports (ARF, RFC 5965): a mailbox provider telling the sender that one of its
users marked a message as spam. The complaining recipient is named by ``Original-Rcpt-To`` in
the ``message/feedback-report`` part, else by the To of the returned message."""

from __future__ import annotations

import email.message

from app.mail import bounce_rcpt
from app.mail.bounce_rcpt import clean_address, valid_address
from app.mail.headers import decode_header
from app.mail.mime import simple_params
from app.mail.types import BounceRecipient, ParsedMessage


def is_feedback_report(msg: email.message.Message, parts: list[email.message.Message]) -> bool:
    if "report" not in str(msg.get("content-type", "")).lower():
        return False
    params = simple_params(msg)
    report_type = params.get("report-type") if params is not None else msg.get_param("report-type")
    if msg.get_content_type() == "multipart/report" and \
            isinstance(report_type, str) and report_type.lower() == "feedback-report":
        return True
    return any(p.get_content_type() == "message/feedback-report" for p in parts)


def complainants(pm: ParsedMessage, parts: list[email.message.Message]) -> tuple[list[BounceRecipient], str]:
    """The recipients who complained, and the report's feedback type (``abuse`` mostly)."""
    fields = email.message.Message()
    for part in parts:
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
                fields = payload[0]
            else:
                data = part.get_payload(decode=True)
                text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(payload)
                fields = email.message_from_string(text[:20000])
            break
    returned = bounce_rcpt.returned_part(parts)
    own = bounce_rcpt.own_addresses((a.email for a in pm.to), returned)
    named = [decode_header(v) for name in ("original-rcpt-to", "removal-recipient")
             for v in fields.get_all(name) or []]
    chosen, _ = bounce_rcpt.choose([named, bounce_rcpt.returned_recipients(returned)], own, None,
                                   valid_address, clean_address)
    feedback = decode_header(fields.get("feedback-type")) or "abuse"
    agent = decode_header(fields.get("user-agent"))
    detail = f"{feedback} report{f' from {agent}' if agent else ''}"[:200]
    return [BounceRecipient(address=a, status=None, hard=True, diagnostic=detail, reason="complaint")
            for a in chosen], feedback
