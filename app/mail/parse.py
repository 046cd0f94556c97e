"""Bytes of one RFC 5322 message to a ParsedMessage. Never raises.

``mime.py`` splits the tree (recovering broken boundaries) and hands each part's headers to the
standard library's compat32 policy, several times faster than policy.default (see
bench/bench_mail.py); ``headers.py`` decodes the values. Bodies are decoded once, in their
declared charset where Python knows it, and bounded so that a huge or deeply nested message
degrades to less text, not to a stall.
"""

from __future__ import annotations

import email
import email.message
import hashlib
import re
from email import policy
from typing import Final, cast

from app.mail.headers import decode_bytes, decode_header, parse_addresses, parse_date, parse_message_ids
from app.mail.htmltext import html_text
from app.mail.invite import read_invite
from app.mail.mime import IndexedMessage, Node, library_tree, simple_params, split
from app.mail.quotes import split_reply
from app.mail.sanitize import one_line, sanitize
from app.mail.thread import thread_key
from app.mail.types import Attachment, ParsedMessage

MAX_TEXT: Final = 1_000_000
"""Characters of body text kept; the rest of a larger body is cut (and recorded as a defect)."""
MAX_HTML: Final = 2_000_000
"""Bytes of HTML read for text (``htmltext``); the rest of a larger body is left out."""
SNIPPET_LENGTH: Final = 200
MAX_HEADER_VALUE: Final = 4000

_TAG: Final = re.compile(r"<[^<>]{0,2000}>")  # stops at the next "<": one scan per tag
_BLANK_RUN: Final = re.compile(r"\n{3,}")
_EMBEDDED: Final = ("message/rfc822", "message/global")


def parse(raw: bytes) -> ParsedMessage:
    """Parse raw message bytes. Whatever the bytes, returns a ParsedMessage."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    try:
        return _parse(raw)
    except Exception as exc:  # the parser promises a result for any input
        return _unparseable(raw, f"{type(exc).__name__}: {exc}")


def attachment_payloads(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """Each of ``parse(raw).attachments`` (same order) with its bytes: decoded from their transfer
    encoding, an attached message as it was embedded. Empty where the message cannot be read."""
    try:
        raw = _without_mbox_line(bytes(raw))
        root, _ = split(raw)
        body = _Body(keep=raw)
        _walk(root, body, 0, False)
    except Exception:
        return []
    return list(zip(body.attachments, body.payloads, strict=True))


def message_from_raw(raw: bytes) -> email.message.Message:
    """The standard library's compat32 Message for ``raw`` (what flufl.bounce reads)."""
    return email.message_from_bytes(_without_mbox_line(raw), IndexedMessage, policy=policy.compat32)


def library_message(pm: ParsedMessage) -> email.message.Message:
    """``message_from_raw(pm.raw)``, from the parts ``parse`` already read where it could
    put them together, else parsed again. Built once per message."""
    tree: object = pm.library_tree
    if tree is None:
        tree = pm.library_tree = message_from_raw(pm.raw)
    elif not isinstance(tree, email.message.Message):
        root, defects = cast("tuple[Node, list[str]]", tree)
        tree = pm.library_tree = library_tree(root, defects) or message_from_raw(pm.raw)
    return tree


def _without_mbox_line(raw: bytes) -> bytes:
    if raw.startswith(b"From ") and not raw.startswith(b"From: "):
        return raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def _parse(raw: bytes) -> ParsedMessage:
    root, split_defects = split(_without_mbox_line(raw))
    msg = root.message
    defects: list[str] = [type(d).__name__ for d in msg.defects] + split_defects
    headers: dict[str, str] = {}
    # Raw values, not msg.get(): compat32 turns 8-bit header bytes into an undecodable Header.
    raw_headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = str(name).strip().lower()
        if key and key not in headers and len(headers) < 200:
            raw_headers[key] = value
            headers[key] = decode_header(value)[:MAX_HEADER_VALUE]

    subject = headers.get("subject", "")
    from_list = parse_addresses(raw_headers.get("from"))
    from_ = from_list[0] if from_list else None
    ids = parse_message_ids(raw_headers.get("message-id"))
    message_id = ids[0] if ids else None
    in_reply = parse_message_ids(raw_headers.get("in-reply-to"))
    in_reply_to = in_reply[0] if in_reply else None
    references = parse_message_ids(raw_headers.get("references"))

    body = _Body()
    _walk(root, body, 0, False)
    text = body.text()
    defects.extend(body.defects)
    new_text, quoted_text = split_reply(text)
    snippet_source = new_text or text
    snippet = " ".join(snippet_source[:SNIPPET_LENGTH * 4].split())[:SNIPPET_LENGTH]

    pm = ParsedMessage(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        from_=from_,
        to=parse_addresses(raw_headers.get("to")),
        cc=parse_addresses(raw_headers.get("cc")),
        reply_to=parse_addresses(raw_headers.get("reply-to")),
        date=parse_date(raw_headers.get("date")),
        text=text,
        new_text=new_text,
        quoted_text=quoted_text,
        snippet=snippet,
        attachments=body.attachments,
        size=len(raw),
        thread_key=thread_key(message_id, in_reply_to, references, subject,
                              from_.email if from_ else ""),
        headers=headers,
        defects=sorted(set(defects)),
        raw=raw,
        structure=body.structure(),
    )
    pm.library_tree = (root, split_defects)  # put together on first use (library_message)
    return pm


_Shape = tuple[str, "list[_Shape] | None"]
"""One part of the MIME tree as ``structure()`` writes it: its type and, for a multipart, its children."""


class _Body:
    """What the walk over the MIME tree collects."""

    def __init__(self, keep: bytes | None = None) -> None:
        self.plain: str | None = None
        self.html: email.message.Message | None = None
        """The first HTML part, decoded only where no plain-text part has text: most mail with
        one has both (an Outlook reply's HTML, ~20 KB, took ~23 µs to decode)."""
        self.attachments: list[Attachment] = []
        self.defects: list[str] = []
        self.tree: list[_Shape] = []
        self.keep = keep
        """The whole message, when each attachment's bytes are wanted (``payloads``)."""
        self.payloads: list[bytes] = []

    def text(self) -> str:
        if self.plain is not None and self.plain.strip():
            return self.plain
        if self.html is not None:
            data = _payload(self.html, self)
            return html_to_text(decode_bytes(data[:MAX_HTML], _charset(self.html)))
        return self.plain or ""

    def structure(self) -> str:
        return _render(self.tree[0]) if self.tree else ""


def _render(node: _Shape) -> str:
    ctype, children = node
    return f"{ctype}({','.join(_render(c) for c in children)})" if children is not None else ctype


def _walk(node: Node, body: _Body, depth: int, embedded: bool, into: list[_Shape] | None = None) -> None:
    """Depth-first over the parts (the splitter already bounded their number and depth).

    ``embedded`` is true below a message/rfc822 part (a forwarded mail, or the original in a
    bounce): its text is not the body of this message.
    """
    into = body.tree if into is None else into
    part, ctype = node.message, node.content_type
    body.defects.extend(type(d).__name__ for d in part.defects)
    if node.children is not None:
        children: list[_Shape] = []
        into.append((ctype, children))
        if ctype in _EMBEDDED and depth > 0:
            _add_attachment(node, ctype, body, _filename(part))
            embedded = True
        for child in node.children:
            _walk(child, body, depth + 1, embedded, children)
        return
    into.append((ctype, None))
    if embedded:
        return
    disposition = str(part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
    filename = _filename(part)
    # A multipart whose delimiters never appear is read as text, as other parsers do.
    readable = ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")
    if disposition == "attachment" or filename or not readable:
        _add_attachment(node, ctype, body, filename)
        return
    if ctype == "text/html":
        if body.html is None:
            body.html = part
        return
    data = _payload(part, body)
    if body.plain is None:
        text = decode_bytes(data, _charset(part))
        if len(text) > MAX_TEXT:
            body.defects.append("BodyTruncated")
            text = text[:MAX_TEXT]
        body.plain = sanitize(text)


def _payload(part: email.message.Message, body: _Body) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        body.defects.append("UndecodablePayload")
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""


def _charset(part: email.message.Message) -> str | None:
    """``part.get_content_charset()``, None where it fails; read from the parameters directly
    where they have the common shape (``simple_params``: ASCII, so the library's check passes)."""
    params = simple_params(part)
    if params is not None:
        charset = params.get("charset")
        return None if charset is None else charset.lower()
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: email.message.Message) -> str:
    try:
        # Both parameters live in these two headers: without "name" in either there is none.
        if ("name" not in str(part.get("content-disposition", "")).lower()
                and "name" not in str(part.get("content-type", "")).lower()):
            return ""
        name = part.get_filename() or part.get_param("name")
    except Exception:
        return ""
    if isinstance(name, tuple):  # RFC 2231 value the library could not collapse
        name = name[2] if len(name) == 3 else ""
    return decode_header(name)[:255] if name else ""


def _add_attachment(node: Node, ctype: str, body: _Body, filename: str = "") -> None:
    invite = None
    if node.children is not None:
        # An attached message: name it after its subject, as mail clients do.
        subject = decode_header(node.children[0].message.get("subject")) if node.children else ""
        name = filename or (f"{subject[:80]}.eml" if subject else "message.eml")
        size = node.size
        data = body.keep[node.body_start:node.body_end] if body.keep is not None else b""
    else:
        data = _payload(node.message, body)
        name, size = filename, len(data)
        if ctype == "text/calendar" or filename.lower().endswith(".ics"):
            invite = read_invite(data)
    body.attachments.append(Attachment(filename=name, content_type=ctype, size=size, invite=invite))
    if body.keep is not None:
        body.payloads.append(data)


def html_to_text(html: str) -> str:
    """Readable text from HTML (``htmltext``): images dropped; nothing is ever fetched."""
    try:
        text = html_text(html)
    except Exception:
        text = _TAG.sub(" ", html)
    text = "\n".join(line.rstrip() for line in sanitize(text).split("\n"))
    return _BLANK_RUN.sub("\n\n", text).strip("\n")


def _unparseable(raw: bytes, reason: str) -> ParsedMessage:
    """The least we can say about bytes the email package could not take apart."""
    text = sanitize(decode_bytes(raw[:MAX_TEXT]))
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=[], subject="", from_=None, to=[], cc=[],
        reply_to=[], date=None, text=text, new_text=text, quoted_text="",
        snippet=" ".join(text[:SNIPPET_LENGTH * 4].split())[:SNIPPET_LENGTH], attachments=[],
        size=len(raw), thread_key=f"raw:{hashlib.sha1(raw).hexdigest()}", headers={},
        defects=[one_line(f"Unparseable: {reason}")[:300]], raw=raw, structure="",
    )
