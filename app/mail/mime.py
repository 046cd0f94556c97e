"""Split a message into its MIME tree, recovering what broken mail leaves of it.

The standard library's parser gives up on several kinds of damage that real mail has: a
boundary parameter folded without its ";", a nested multipart whose boundary is a prefix of
its parent's, delimiter lines with trailing garbage. We split the tree ourselves, line by line,
following RFC 2046's advice to implementors (a delimiter is a line that *starts* with "--" and
the boundary) and letting the innermost multipart claim a line before its ancestors do. Each
part's header block then goes to the standard library (compat32) for decoding, so charsets,
transfer encodings and RFC 2231 parameters are handled by well-trodden code.
"""

from __future__ import annotations

import email
import email.message
import re
from bisect import bisect_left
from dataclasses import dataclass
from email import errors, policy
from itertools import accumulate
from typing import Any, Final

MAX_DEPTH: Final = 20
MAX_PARTS: Final = 500

_BOUNDARY: Final = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_BODY_DEFECTS: Final = ("MultipartInvariantViolationDefect", "StartBoundaryNotFoundDefect",
                        "CloseBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect")
_HEADER_LINE: Final = re.compile(rb"^[!-9;-~]+([ \t]*):")
# RFC 5322's obsolete syntax allows white space before the colon ("Subject :"); the standard
# library does not, and would take such a line for the start of the body. Mended only in a block
# with such a line (``_HEADER_LINE``'s group): " :" alone is common in a folded DKIM or ARC
# header ("h=to:subject...\r\n  :dkim-signature"), and this over a whole block costs more than
# the rest of reading it.
_SPACE_BEFORE_COLON: Final = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.MULTILINE)


@dataclass
class Node:
    """One part: its headers (as a compat32 Message), and either children or a body."""

    message: email.message.Message
    children: list[Node] | None = None
    size: int = 0
    """Bytes of the whole part in the raw message, headers included."""
    body_start: int = 0
    body_end: int = 0
    """Where an attached message (message/rfc822) lies in the raw message, its own headers included."""
    header_bytes: bytes | None = None
    body_bytes: bytes = b""
    """The part's header block and body as written, kept for a message/* part the splitter did
    not open."""
    line_break: bytes = b""
    """The line break before the delimiter that ended the body (not part of the body)."""
    mended: bool = False
    """Read otherwise than the standard library would: its header block mended ("Name :"
    lines), or (on the root) a delimiter line with more than white space after the boundary."""

    @property
    def content_type(self) -> str:
        try:
            return self.message.get_content_type().split()[0]
        except Exception:
            return "text/plain"


class _Splitter:
    """Recursive descent over the lines of one message; positions are line indexes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.lines = raw.splitlines(keepends=True)
        self.offsets = [0, *accumulate(map(len, self.lines))]
        """Where each line starts in ``raw`` (the lines cut it whole: a run of lines is the slice
        between two offsets)."""
        self._dashes: list[int] | None = None
        self.parts = 0
        self.defects: list[str] = []
        self.loose = False
        """A delimiter line was taken with more than white space after its boundary (the
        standard library takes only a bare one)."""

    def next_dash(self, pos: int) -> int:
        """The first line from ``pos`` on that starts with "--" (the only lines ``matches`` can
        take for a delimiter), or the number of lines: the scans for a delimiter skip the rest."""
        if self._dashes is None:
            self._dashes = [i for i, line in enumerate(self.lines) if line.startswith(b"--")]
        k = bisect_left(self._dashes, pos)
        return self._dashes[k] if k < len(self._dashes) else len(self.lines)

    def matches(self, line: bytes, stack: list[bytes]) -> bool:
        if not line.startswith(b"--"):
            return False
        found = [b for b in stack if line.startswith(b"--" + b, 0)]
        if found:
            self.check(line, found)
        return bool(found)

    def check(self, line: bytes, found: list[bytes]) -> None:
        """Note a delimiter line the standard library would read otherwise: with more than white
        space after the boundary, or one it could take for more than one boundary."""
        if sum(_bare(line, len(b) + 2) for b in found) != 1:
            self.loose = True

    def entity(self, pos: int, stack: list[bytes], depth: int) -> tuple[Node, int]:
        """Parse one entity from line ``pos``; return it and the line that ended it."""
        self.parts += 1
        lines, n = self.lines, len(self.lines)
        start = pos
        spaced = False  # a "Name :" line
        while pos < n:
            line = lines[pos]
            if line in (b"\n", b"\r\n", b"\r"):
                break
            if stack and self.matches(line, stack):
                break  # the part ends before its headers do: no body
            if line[:1] in (b" ", b"\t") and pos > start:
                pos += 1  # a folded header's next line
                continue
            named = _HEADER_LINE.match(line)
            if named is None:
                # Text where a header should be: the body began without its blank line.
                self.defects.append("MissingHeaderBodySeparatorDefect")
                if line[:1] in (b" ", b"\t", b":") or line.startswith(b"From "):
                    self.loose = True  # the library reads such a line as a header
                break
            if named.end(1) > named.start(1):
                spaced = True
            pos += 1
        header_lines = lines[start:pos]
        header_bytes = self.raw[self.offsets[start]:self.offsets[pos]]
        if pos < n and lines[pos] in (b"\n", b"\r\n", b"\r"):
            pos += 1
        mended = False
        if spaced:
            fixed = _SPACE_BEFORE_COLON.sub(rb"\1:", header_bytes)
            mended, header_bytes = fixed != header_bytes, fixed
        message = plain_headers(header_bytes.splitlines(keepends=True) if mended else header_lines)
        if message is None:
            message = email.message_from_bytes(header_bytes + b"\n", IndexedMessage, policy=policy.compat32)
            # Parsed without its body, a multipart header block draws complaints about the
            # missing parts; the splitter reports the real ones itself.
            message.defects[:] = [d for d in message.defects if type(d).__name__ not in _BODY_DEFECTS]
        node = Node(message, mended=mended)
        ctype = node.content_type
        boundary = self._boundary(header_bytes) if ctype.startswith("multipart/") else None
        if boundary and depth < MAX_DEPTH and self.parts < MAX_PARTS:
            end = self._multipart(node, pos, stack + [boundary], depth)
            if end is not None:
                node.size = self.offsets[end] - self.offsets[start]
                return node, end
        if (ctype in ("message/rfc822", "message/global") and depth < MAX_DEPTH
                and self.parts < MAX_PARTS and _cte(message) not in ("base64", "quoted-printable")):
            inner, end = self.entity(pos, stack, depth + 1)
            if len(inner.message):
                node.children = [inner]
                node.size = self.offsets[end] - self.offsets[start]
                node.body_start, node.body_end = self.offsets[pos], self.offsets[end]
                return node, end
        end = self.next_dash(pos) if stack else n  # outside any multipart the body runs to the end
        while end < n and not self.matches(lines[end], stack):
            end = self.next_dash(end + 1)
        body = self.raw[self.offsets[pos]:self.offsets[end]]
        if stack and end < n:
            whole, body = body, _strip_final_newline(body)  # the line break before a delimiter belongs to it
            node.line_break = whole[len(body):]
        message.set_payload(body.decode("ascii", "surrogateescape"))
        if ctype.startswith("message/"):
            node.header_bytes, node.body_bytes = header_bytes, body
        node.size = self.offsets[end] - self.offsets[start]
        return node, end

    def _multipart(self, node: Node, pos: int, stack: list[bytes], depth: int) -> int | None:
        """Fill ``node.children``; return where the multipart ends, or None if it has no parts."""
        lines, n = self.lines, len(self.lines)
        own = b"--" + stack[-1]
        pos = self.next_dash(pos)
        while pos < n and not lines[pos].startswith(own):
            if self.matches(lines[pos], stack[:-1]):
                return None
            pos = self.next_dash(pos + 1)
        if pos >= n:
            self.defects.append("StartBoundaryNotFoundDefect")
            return None
        node.children = []
        while pos < n:
            line = lines[pos]
            if line.startswith(own):
                self.check(line, [b for b in stack if line.startswith(b"--" + b)])
                if line[len(own):len(own) + 2] == b"--":
                    pos = self.next_dash(pos + 1)
                    while pos < n and not self.matches(lines[pos], stack[:-1]):
                        pos = self.next_dash(pos + 1)  # the epilogue
                    return pos
                pos += 1
                if pos >= n:
                    break  # a last delimiter with nothing after it opens no part
                if self.parts >= MAX_PARTS:
                    self.defects.append("TooManyParts")
                    return n
                child, pos = self.entity(pos, stack, depth + 1)
                node.children.append(child)
            else:
                return pos  # an ancestor's delimiter: this multipart was never closed
        self.defects.append("CloseBoundaryNotFoundDefect")
        return pos

    @staticmethod
    def _boundary(header_bytes: bytes) -> bytes | None:
        for m in _BOUNDARY.finditer(header_bytes):
            value = (m.group(1) or m.group(2)).strip()
            if value:
                return value
        return None


_Field = tuple[str, Any]
"""A header as a Message keeps it: its name, and its value (a str, or a ``Header`` where one was set)."""


class IndexedMessage(email.message.Message):
    """A compat32 Message whose header lookups (``get``, ``in``, and so ``get_content_type`` and
    the parameters) read an index by lower-cased name instead of lower-casing every header name
    on every call: bounce reading asks a part for its headers dozens of times. The index follows
    the header list; it is built again when the list is replaced, grows or shrinks, or a header
    is replaced in place (the one change that keeps its length)."""

    _index: tuple[list[_Field], int, dict[str, _Field]] | None = None

    def _first(self) -> dict[str, _Field]:
        headers = self._headers  # type: ignore[attr-defined]
        index = self._index
        if index is None or index[0] is not headers or index[1] != len(headers):
            first: dict[str, _Field] = {}
            for k, v in headers:
                first.setdefault(k.lower(), (k, v))
            index = self._index = (headers, len(headers), first)
        return index[2]

    def get(self, name: str, failobj: Any = None) -> Any:
        index = self._index  # (the freshness test of _first, without its call: the hot path)
        if index is None or index[0] is not self._headers or index[1] != len(index[0]):  # type: ignore[attr-defined]
            hit = self._first().get(name.lower())
        else:
            hit = index[2].get(name.lower())
        if hit is None:
            return failobj
        value = hit[1]
        if type(value) is str and value.isascii() and self.policy is policy.compat32:
            return value  # (what compat32's header_fetch_parse returns for a value without 8-bit bytes)
        # (Any: for a value with 8-bit bytes compat32 returns a Header, where its stubs say str,
        # and compiled code checks what a call returns against them)
        fetch: Any = self.policy.header_fetch_parse
        return fetch(*hit)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first()

    _content_type: tuple[object, str] | None = None

    def get_content_type(self) -> str:
        """The library's answer, kept with the index it was read from: a part is asked for its
        type many times (the splitter, the walks, every flufl.bounce detector), and only a
        change of the headers (a new index) or of the default type can change it."""
        index, cached = self._index, self._content_type
        if (cached is not None and cached[0] is index and index is not None
                and index[0] is self._headers and index[1] == len(index[0])):  # type: ignore[attr-defined]
            return cached[1]  # (kept only where the headers have a Content-Type)
        first = self._first()
        if "content-type" not in first:
            return self.get_default_type()  # (set_default_type changes it without a header)
        index, cached = self._index, self._content_type
        if cached is not None and cached[0] is index:
            return cached[1]
        ctype = super().get_content_type()
        self._content_type = (index, ctype)
        return ctype

    def replace_header(self, _name: str, _value: Any) -> None:
        self._index = None
        super().replace_header(_name, _value)


_NAME_CHARS: Final = bytes(range(0x21, 0x7F))
"""What a field name is made of as the standard library's feed parser reads one (its ``headerRE``):
printable ASCII but the space; the colon ends the name."""


def plain_headers(header_lines: list[bytes]) -> email.message.Message | None:
    """What ``message_from_bytes(b"".join(header_lines) + b"\n", policy=compat32)`` gives for a
    plain header block (defects of the missing body aside), without the feed parser's machinery:
    each ``Name: value`` line and its continuations read as compat32's ``header_source_parse``
    reads them (the value from after the colon and its blanks to before the last line break).
    None for anything the parser would treat specially (an envelope ``From`` line, a block
    starting with a continuation, a line that is no header): the caller lets the standard
    library read those. ``header_lines`` keep their line breaks. tests/test_mail_properties.py
    holds the two to the same headers."""
    message = IndexedMessage(policy=policy.compat32)
    message.set_payload("")
    # (for a message/* part the parser would also read the empty body as a message or as header
    # blocks; the splitter sets every part's payload itself, so only the headers matter here)
    if not header_lines:  # a part with no headers at all: the library reads no header either
        return message
    headers = message._headers  # type: ignore[attr-defined]
    name: str | None = None
    value = b""
    more: list[bytes] | None = None  # a folded header's lines (joined once: linear however many)
    for line in header_lines:
        if line[0] in (32, 9):  # a continuation line
            if name is None:
                return None
            if more is None:
                more = [value]
            more.append(line)
            continue
        if name is not None:
            whole = value if more is None else b"".join(more)
            headers.append((name, whole.decode("ascii", "surrogateescape").rstrip("\r\n")))
        key, colon, value = line.partition(b":")
        if not colon or not key or key.translate(None, _NAME_CHARS):
            return None  # no field name (printable ASCII but the space and the colon)
        name, more = key.decode("ascii"), None
        value = value.lstrip(b" \t")
    if name is not None:
        whole = value if more is None else b"".join(more)
        headers.append((name, whole.decode("ascii", "surrogateescape").rstrip("\r\n")))
    return message


_TOKEN: Final = r"[!#-'*+\-.0-9A-Z^-~]{1,200}"
_BLANKS: Final = r"[ \t\r\n]{0,20}"
_SIMPLE_TYPE: Final = re.compile(
    rf"{_TOKEN}/{_TOKEN}(?:{_BLANKS};{_BLANKS}[!#-'+\-.0-9A-Z^-~]{{1,100}}{_BLANKS}={_BLANKS}"
    rf"(?:{_TOKEN}|\"[ !#-:<-\[\]-~]{{0,200}}\"))*{_BLANKS};?{_BLANKS}")
"""A Content-Type value in the shape nearly every part has: a type, then ``name=value``
parameters, each value a token or a quoted string without a quote, a backslash or a ";" inside,
no name with a "*" (RFC 2231 pieces, which the library may fail to put together), all ASCII,
folded or not between the parameters. The library cuts such a value at each ";" and reads each
parameter as ``simple_params`` does (white space around names and values stripped)."""


def simple_params(part: email.message.Message) -> dict[str, str] | None:
    """The parameters of ``part``'s Content-Type, by lower-cased name (the first of a name),
    their values unquoted: what ``part.get_param(name)`` answers for each parameter name (and
    so ``get_content_charset`` and whether ``get_boundary`` finds one). Empty where the
    part has no Content-Type; None where the value has another shape than ``_SIMPLE_TYPE``, for
    the caller to ask the library. tests/test_mail_properties.py holds the two to the same answers."""
    value = part.get("content-type")
    if value is None:
        return {}
    if type(value) is not str or _SIMPLE_TYPE.fullmatch(value) is None:
        return None
    params: dict[str, str] = {}
    for piece in value.split(";")[1:]:
        name, eq, param = piece.partition("=")
        if eq:
            param = param.strip()
            params.setdefault(name.strip().lower(), param[1:-1] if param[:1] == '"' else param)
    return params


def _cte(message: email.message.Message) -> str:
    return str(message.get("content-transfer-encoding", "")).strip().lower()


def _strip_final_newline(body: bytes) -> bytes:
    if body.endswith(b"\r\n"):
        return body[:-2]
    if body.endswith((b"\n", b"\r")):
        return body[:-1]
    return body


def split(raw: bytes) -> tuple[Node, list[str]]:
    """The MIME tree of ``raw`` and the defects met on the way."""
    splitter = _Splitter(raw)
    root, _ = splitter.entity(0, [], 0)
    root.mended = root.mended or splitter.loose
    return root, splitter.defects


def _bare(line: bytes, at: int) -> bool:
    """Only an optional "--" and white space follow the boundary (RFC 2046's delimiter)."""
    rest = line[at:]
    if rest.startswith(b"--"):
        rest = rest[2:]
    return not rest.strip(b" \t\r\n")


def library_tree(root: Node, defects: list[str]) -> email.message.Message | None:
    """The tree ``email.message_from_bytes(raw, policy=compat32)`` builds for the message that
    ``split`` read into ``root``, put together from the parts already read (what flufl.bounce and
    the bounce reader walk). None where the two parsers may part ways: damage the splitter
    mended (``defects`` but a missing blank line after the headers, a mended header block), a multipart it could not open, a digest (whose
    parts default to message/rfc822 in the library), a boundary the library reads otherwise.
    The parts' Message objects are the splitter's own: the tree shares them."""
    if any(d != "MissingHeaderBodySeparatorDefect" for d in defects):
        return None  # (a body begun without its blank line both parsers read alike)
    try:
        return _library_part(root)
    except Exception:  # _Unsure, or anything odd: the caller parses the message again
        return None


_FINAL_LINE_BREAK: Final = re.compile(r"(?:\r\n|\r|\n)\Z")


class _Unsure(Exception):
    pass


def _library_part(node: Node) -> email.message.Message:
    if node.mended:
        raise _Unsure
    msg, ctype = node.message, node.content_type
    if ctype.startswith("multipart/"):
        params = simple_params(msg)
        if (not node.children or ctype == "multipart/digest"
                or ("boundary" not in params if params is not None else msg.get_boundary() is None)
                or any(child.size == 0 for child in node.children)):
            raise _Unsure  # (the library opens no part between two delimiter lines)
        msg.set_payload([_library_part(child) for child in node.children])
    elif node.children:  # an attached message the splitter opened
        msg.set_payload([_library_part(node.children[0])])
    elif ctype.startswith("message/"):
        # Left closed by the splitter (encoded, empty, a delivery-status or feedback report):
        # the library reads what is inside as a message or header blocks; let it read this part.
        if node.header_bytes is None or (node.line_break and not node.body_bytes.isascii()):
            raise _Unsure  # (8-bit text would come back from get_payload() with U+FFFD)
        part = (_delivery_status(node.header_bytes, node.body_bytes + node.line_break)
                or _message_part(node.header_bytes, node.body_bytes + node.line_break)
                or email.message_from_bytes(node.header_bytes + b"\n" + node.body_bytes + node.line_break,
                                            IndexedMessage, policy=policy.compat32))
        if node.line_break:  # as the library does at a delimiter: off the last part read
            last = list(part.walk())[-1]
            inner = last.get_payload()
            if isinstance(inner, str):
                last.set_payload(_FINAL_LINE_BREAK.sub("", inner))
        return part
    return msg


_BLANK: Final = (b"\n", b"\r\n", b"\r")
_FEED_HEADER: Final = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
"""The standard library's test for a header line (``email.feedparser.headerRE``)."""


def _delivery_status(header_bytes: bytes, body: bytes) -> email.message.Message | None:
    """What ``message_from_bytes(header_bytes + b"\\n" + body, policy=compat32)`` gives for a
    plain message/delivery-status part, without the feed parser: the part's headers, and one
    message per block of header lines of its body (a blank line ends a block, and a line after
    it starts the next, even another blank line: an empty block), each read by
    ``plain_headers``. None for anything else (another type, a block holding a line that is no
    header, or a Content-Type of its own, which the library would read further), which the
    caller gives to the library. tests/test_mail_properties.py holds the two to the same tree."""
    part = plain_headers(header_bytes.splitlines(keepends=True))
    if part is None or part.get_content_type() != "message/delivery-status":
        return None
    lines = body.splitlines(keepends=True)
    n, i = len(lines), 0
    blocks: list[email.message.Message | str] = []
    while True:
        start = i
        while i < n and lines[i] not in _BLANK:
            i += 1
        block = plain_headers(lines[start:i])
        if block is None or "content-type" in block:
            return None
        blocks.append(block)
        i += 1  # the blank line that ended the block, if any
        if i >= n:
            break
    part.set_payload(blocks)
    return part


def _message_part(header_bytes: bytes, body: bytes) -> email.message.Message | None:
    """What ``message_from_bytes(header_bytes + b"\\n" + body, policy=compat32)`` gives for a
    message/* part (but a delivery status) left closed by the splitter, without the feed parser:
    the part with its headers, holding one message: its header lines (as the feed parser takes
    them: up to the first line that is no header, a blank line dropped, any other kept as text
    with a missing-separator defect) read by ``plain_headers``, and the rest as its text. A
    returned message cut to "Message removed", an empty one, the headers of a message/rfc822-headers
    part. None for anything else (a block ``plain_headers`` leaves to the library, a message
    that is itself multipart or a message, lines broken otherwise than by LF), which the caller
    gives to the library. tests/test_mail_properties.py holds the two to the same tree."""
    part = plain_headers(header_bytes.splitlines(keepends=True))
    if (part is None or part.get_content_maintype() != "message"
            or part.get_content_type() == "message/delivery-status"):
        return None
    if b"\r" in body:
        return None  # (lines broken otherwise than by LF: the library's own reading)
    lines = body.splitlines(keepends=True)
    i = 0
    while i < len(lines) and _FEED_HEADER.match(lines[i].decode("ascii", "surrogateescape")):
        i += 1
    inner = plain_headers(lines[:i])
    if inner is None or inner.get_content_maintype() in ("multipart", "message"):
        return None  # (the library reads such a message further)
    rest = lines[i:]
    if rest and rest[0] == b"\n":
        rest = rest[1:]  # the blank line that ends the headers
    elif rest:
        inner.defects.append(errors.MissingHeaderBodySeparatorDefect())
    inner.set_payload(b"".join(rest).decode("ascii", "surrogateescape"))
    part.set_payload([inner])
    return part
