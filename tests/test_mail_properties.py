"""Property-based: parse takes any bytes; sanitize lets no control or escape through."""

from __future__ import annotations

import email.errors
import re
import unicodedata
from email.utils import getaddresses

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.mail import classify, headers, parse, quotes, sanitize
from app.mail.mime import _SIMPLE_TYPE
from app.mail.parse import _charset
from app.mail.sanitize import one_line

_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])

# Bytes shaped like mail, so the generator reaches MIME and header code, not only the fallback.
_HEADER_LINES = st.sampled_from([
    b"Content-Type: multipart/mixed; boundary=b\n", b"Content-Type: text/html; charset=bogus\n",
    b"Content-Type: message/rfc822\n", b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n", b"Subject: =?utf-8?b?w6k=?= =?x?q?=FF?=\n",
    b"From: =?utf-8?q?A?= <a@b.c>, bad\n", b"Date: Mon, 32 Foo 99999 99:99:99 +9999\n",
    b"References: <a@b> <c@d\n", b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n",
    b"\n", b"--b\n", b"--b--\n", b"Final-Recipient: rfc822; x@y.z\nAction: failed\nStatus: 5.1.1\n",
])
_MAILISH = st.lists(st.one_of(_HEADER_LINES, st.binary(max_size=40)), max_size=30).map(b"".join)


@_SETTINGS
@given(st.one_of(st.binary(max_size=2000), _MAILISH))
def test_parse_never_raises(raw):
    message = parse(raw)
    assert message.size == len(raw)
    addresses = [a for a in (message.from_, *message.to, *message.cc, *message.reply_to) if a]
    for text in (message.subject, message.text, message.new_text, message.quoted_text,
                 message.snippet, message.thread_key, *message.headers.values(),
                 *message.defects, *message.references, *(a.filename for a in message.attachments),
                 *(a.name for a in addresses), *(a.email for a in addresses)):
        assert sanitize(text) == text
    classify(message)


_NASTY = st.sampled_from(["\x1b[2J", "\x1b]0;title\x07", "\x1b]52;c;QUFB\x1b\\", "\x9b31m",
                          "\x1bP1$r\x1b\\", "\u202e", "\u2066", "\x00", "\x7f", "\x85", "\r",
                          "\x1b", "\x9d8;;http://x\x9c", "\ud800"])
_TEXT = st.lists(st.one_of(st.text(max_size=20), _NASTY), max_size=30).map("".join)


@_SETTINGS
@given(_TEXT)
def test_sanitize_leaves_no_control_or_escape(text):
    clean = sanitize(text)
    for ch in clean:
        if ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        assert category not in ("Cc", "Cs"), repr(ch)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert "\r" not in clean
    assert sanitize(clean) == clean


def _one_line_in_full(text: str) -> str:
    return " ".join(sanitize(text).split())


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_TEXT, st.lists(st.sampled_from(["a", " ", "  ", "\u00a0", "\u3000", "\x1c", "\t", "é"]),
                                 max_size=12).map("".join)))
@example("Re: a quote ")
@example(" Re: a quote")
@example("Re:  a quote")
@example("Re:\u2028a")
def test_one_line_hands_back_a_value_that_is_one_line_already_as_folding_would(text):
    assert one_line(text) == _one_line_in_full(text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["h=to:subject", "a", ";", " ", "  ", "\t", "\r\n", "\r\n\t", "\r\n        ",
                                 "\r", "\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x00", "\x1b[31m", "é",
                                 "\x85", "\u2028"]), max_size=16).map("".join))
@example("v=1; a=rsa-sha256;\r\n        h=to:subject\r\n         :dkim-signature;\r\n\tb=Qw1E")
@example("from mx (mx [10.0.0.1])\r\n\tby vm with LMTP\r\n ")
@example("a\r\x0bb")
def test_one_line_folds_a_folded_header_as_sanitizing_it_first_would(text):
    """A folded ASCII header (Received, DKIM-Signature) is folded without sanitize's passes: the
    same line as with them, whatever control characters are mixed in."""
    assert one_line(text) == _one_line_in_full(text)


def test_no_printable_character_is_sanitized_or_breaks_a_line_but_the_space():
    """What one_line's shortcut stands on, over every code point."""
    for code in range(0x110000):
        ch = chr(code)
        if ch.isprintable():
            assert sanitize(ch) == ch and (ch.split() == [ch] or ch == " "), hex(code)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(quotes._ATTRIBUTION))
def test_every_attribution_holds_a_word_the_quick_check_looks_for(line):
    """The quote split skips the attribution pattern on a line without one of a few words (or an
    address with a date or a time); an attribution in any language the pattern knows must never
    be skipped so, or its quoted history would be taken for the sender's new text."""
    if quotes._ATTRIBUTION.match(line):
        assert quotes._may_be_attribution(line), line


_ADDRESS_CHARS = st.sampled_from(list("aZ09 \"<>,@.\\()[];:-'=?_+\té~!") + ["..", "@@", "<>", "\"\""])
_SPEC = st.builds(lambda local, domain: f"{local}@{domain}", st.text("abXY09._-+'=?!", min_size=1, max_size=8),
                  st.lists(st.text("ab09-", min_size=1, max_size=4), min_size=1, max_size=3).map(".".join))
_NAME = st.one_of(
    st.lists(st.one_of(st.text("abXYé09.'-=?_", min_size=1, max_size=5), st.sampled_from([" ", "  ", "\t"])),
             max_size=5).map("".join),
    st.text(alphabet="ab ,;<@é\\\"\t\x01", max_size=8).map(lambda s: f'"{s}"'))
_MAILBOX = st.one_of(_SPEC, st.builds(lambda n, s, sp: f"{n}{sp}<{s}>", _NAME, _SPEC, st.sampled_from(["", " ", "  "])))
_ADDRESS_VALUE = st.one_of(
    st.lists(_ADDRESS_CHARS, max_size=40).map("".join),
    st.lists(_MAILBOX, min_size=1, max_size=3).map(", ".join),
    st.lists(st.one_of(_MAILBOX, _ADDRESS_CHARS), min_size=1, max_size=6).map("".join),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_ADDRESS_VALUE)
def test_common_address_shapes_read_as_the_standard_library_reads_them(value):
    """Where the quick reader of From/To/Cc takes a header, it gives what the standard library's
    ``getaddresses`` gives: a sender's name or address never differs for the speed-up."""
    quick = headers.simple_addresses(value)
    if quick is not None:
        assert quick == getaddresses([value]), value


_HEADER_NAMES = st.sampled_from(["Content-Type", "content-type", "X-Failed-Recipients", "From", "Subject"])
_HEADER_STEPS = st.lists(st.one_of(
    st.tuples(st.just("set"), _HEADER_NAMES, st.sampled_from(["text/plain", "multipart/mixed; boundary=a", "x",
                                                              "caf\udce9", "café"])),
    st.tuples(st.just("del"), _HEADER_NAMES, st.just("")),
    st.tuples(st.just("replace"), _HEADER_NAMES, st.sampled_from(["text/html", "y"])),
    st.tuples(st.just("boundary"), st.just(""), st.sampled_from(["b1", "b2"])),
    st.tuples(st.just("param"), st.sampled_from(["charset", "name"]), st.sampled_from(["utf-8", "z"])),
    st.tuples(st.just("read"), _HEADER_NAMES, st.just("")),
    st.tuples(st.just("default"), st.just(""), st.sampled_from(["message/rfc822", "text/plain"])),
), max_size=12)


@settings(max_examples=400, deadline=None)
@given(_HEADER_STEPS)
def test_indexed_message_answers_as_the_library_message(steps):
    """Bounce reading asks the parts of a message for their headers through an index; after any
    change to the headers it answers as the standard library's own Message does."""
    from email.message import Message

    from app.mail.mime import IndexedMessage

    mine, theirs = IndexedMessage(), Message()
    for op, name, value in steps:
        for msg in (mine, theirs):
            try:
                if op == "set":
                    msg[name] = value
                elif op == "del":
                    del msg[name]
                elif op == "replace":
                    msg.replace_header(name, value)
                elif op == "boundary":
                    msg.set_boundary(value)
                elif op == "param":
                    msg.set_param(name, value)
                elif op == "default":
                    msg.set_default_type(value)
            except (KeyError, TypeError, email.errors.HeaderParseError):  # (as the library raises them)
                pass
        for header in ("Content-Type", "X-Failed-Recipients", "from", "SUBJECT"):
            assert mine.get(header) == theirs.get(header)
            assert type(mine.get(header)) is type(theirs.get(header))
            assert (header in mine) == (header in theirs)
        assert mine.get_content_type() == theirs.get_content_type()
        assert mine.get_boundary() == theirs.get_boundary()


def _caseless_patterns():
    from app.mail import bounce, bounce_rcpt
    return [bounce._BODY, bounce._SUBJECT, bounce._SENDER_NAME, bounce_rcpt._MARKER, quotes._ATTRIBUTION_WORD]


_CASE_PIECES = st.sampled_from(
    ["User Unknown", "ORIGINAL MESSAGE", "original message", "İ", "ı", "ſ", "K", "ß", "Ü", "ü",
     "ИСХОДНОЕ СООБЩЕНИЕ", "исхᲂдное сᲂᲂбщение", "Ursprüngliche Nachricht", "could not be delivered", "COPY OF YOUR MESSAGE",
     "does not exi", "st", "\n", " ", "x", "é", "元のメッセージ", "WROTE", "ſent", "wro", "te", "Viết", "VIẾT", "НАПИСАЛ",
     "Schrieb", "SK", "rev"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_CASE_PIECES, st.text(max_size=3)), max_size=12).map("".join), st.integers(0, 3))
def test_caseless_search_finds_what_ignorecase_finds(text, pos):
    """Bounce wording and the returned message's marker are found at the same place as a
    case-insensitive search finds them, whatever the text's letters."""
    for pattern in _caseless_patterns():
        m = pattern.folding.search(text, pos)
        assert pattern.span(text, pos=pos) == (m.span() if m else None), (pattern.lower.pattern[:30], text)



_SENDERS = st.one_of(st.sampled_from([
    # the mail systems whose notices flufl.bounce's Yahoo, AOL and Yale detectors read
    "MAILER-DAEMON@yahoo.com", "mailer-daemon@Yahoo.co.uk", "Mailer-Daemon <MAILER-DAEMON@yahoo.com>",
    "mailer-daemon@yahoo", "MAILER-DAEMON@aol.com", "Mail Delivery <postmaster@AOL.COM>",
    "MAILER-DAEMON@yale.edu", "mailer-daemon@cs.YALE.EDU"]), st.sampled_from([
    "x@aol.com.evil", "mailer-daemon@yale.edu.org", "yale@mailer-daemon.edu", "MAILER-DAEMON@example.com (Mail Delivery System)",
    '"Jetmail System" <>', "", "<>", "a@b.c, MAILER-DAEMON@yahoo.com", '"mailer-daemon"@yahoo.com',
    "mailer-daemon (x) @yahoo.com", "mailer-daemon@sina.com", "\udce9@aol.com", "Postmaster <postmaster@yahoo.com>",
    "bad,,", "M\u0130LER-DAEMON@yahoo.com", "mailer-daemon\t@yale.edu", "MAILER-DAEMON@yale.edu (Yale)"]))
# the lines each detector starts reading after, and lines it reads addresses from
_INTROS = st.sampled_from([
    "Sorry, we were unable to deliver your message to the following address.", "message from yahoo.com",
    "mail to the following recipients could not be delivered", "Mail to the following recipients could not be delivered",
    "The following recipients did not receive this message:", "THE FOLLOWING RECIPIENTS DID NOT RECEIVE THIS MESSAGE:",
    "the following recipient\u017f did not receive this message: \u212a", "the following recipients did not receive this message:",
    "Message not delivered to the following:", "Hi. This is the qmail-send program", "did not reach the following recipient",
    # letters outside ASCII: ones case folding takes for ASCII letters (\u017f, \u212a, \u0130,
    # \u0131) inside the words a start pattern needs, and others beside them
    "The following addre\u017f\u017f failed:", "The following address failed: caf\u00e9", "\u0130ntended recipient: x@y.z",
    "Delivery has failed \u00fcber", "did not reach the following recipient \u212a\u0131",
])
_BOUNCE_LINES = st.sampled_from([
    "<jim@example.com>:", "<ann@example.org>", "jimmy", "jo@aol.com", "   bob   ", " x@y.z ", "", "user unknown",
    "--- Original message follows.", "Error Detail", "caf\u00e9",
])


# delivery-status blocks flufl.bounce's DSN detector reads a recipient from, and ones it does not
_DSN_BLOCKS = st.sampled_from([
    "Action: failed\nFinal-Recipient: rfc822; ann@example.org\nStatus: 5.1.1",
    "Action: delayed\nFinal-Recipient: rfc822;<jim@example.com>", "Action: relayed\nFinal-Recipient: rfc822; x@y.z",
    "Final-Recipient: <bob@example.net>\nAction: error", "Action: failed", "",
])


@st.composite
def _bounce_message(draw) -> bytes:
    head = [f"From: {draw(_SENDERS)}"] if draw(st.integers(0, 5)) else []
    if not draw(st.integers(0, 3)):
        head.append(f"X-Failed-Recipients: {draw(st.sampled_from(['a@b.c', '', 'x, <y@z.q>']))}")
    lines = [*draw(st.lists(_BOUNCE_LINES, max_size=2)), *draw(st.lists(_INTROS, max_size=2)),
             *draw(st.lists(_BOUNCE_LINES, max_size=4))]
    kind = draw(st.sampled_from(["plain", "mixed", "none", "html", "report", "nested report"]))
    if kind == "mixed":
        inner = "\n".join(lines)
        head.append('Content-Type: multipart/mixed; boundary="b"')
        body = f"--b\nContent-Type: text/plain\n\n{inner}\n--b\nContent-Type: text/plain\n\n{inner}\n--b--\n"
    elif kind.endswith("report"):
        inner = "\n".join(lines)
        status = draw(_DSN_BLOCKS)
        report = (f'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
                  f"--b\nContent-Type: text/plain\n\n{inner}\n--b\nContent-Type: message/delivery-status\n\n"
                  f"Reporting-MTA: dns; mx.example\n\n{status}\n--b--\n")
        if kind == "report":
            head.append(report.split("\n\n", 1)[0])
            body = report.split("\n\n", 1)[1]
        else:  # the report forwarded inside another multipart
            head.append('Content-Type: multipart/mixed; boundary="c"')
            body = f"--c\nContent-Type: text/plain\n\n{inner}\n--c\n{report}--c--\n"
    else:
        if kind != "none":
            head.append(f"Content-Type: text/{kind}")
        body = "\n".join(lines) + "\n"
    return ("\n".join(head) + "\n\n" + body).encode("utf-8", "surrogateescape")


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_bounce_message())
# each detector finding someone, from a sender at the edge of what it reads
@example(b"From: mailer-daemon@yahoo\n\nmessage from yahoo.com\n<jim@example.com>:\n")
@example(b"From: Mail Delivery <postmaster@AOL.COM>\n\nmail to the following recipients could not be delivered\njimmy\n")
@example(b"From: mailer-daemon@cs.YALE.EDU\n\nMessage not delivered to the following:\n   bob   \n")
@example(b'From: a@b.c\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n\n'
         b"THE FOLLOWING RECIPIENTS DID NOT RECEIVE THIS MESSAGE:\n<ann@example.org>\n--b--\n")
@example('From: a@b.c\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n\n'
         "the following recipient\u017f did not receive this message:\n<ann@example.org>\n--b--\n".encode())
@example(b"From: a@b.c\nX-Failed-Recipients: x, <y@z.q>\n\nuser unknown\n")
@example("From: a@b.c\n\nThe following addre\u017f\u017f failed:\n<ann@example.org>\n".encode())
def test_the_bounce_scan_skips_only_detectors_that_would_find_nothing(raw):
    """flufl.bounce's detectors are skipped for a sender or content type they do not read, or
    text they need that is not there: each skipped one would have found nobody and raised
    nothing, and the scan names the addresses flufl.bounce names, and fails where it fails,
    whatever the sender and the notice's lines."""
    from flufl.bounce import all_failures as flufl_all_failures

    from app.mail.bounce_scan import _CANNOT_FIND, _Lazy, all_failures
    from app.mail.parse import message_from_raw

    # read from bytes, the text outside ASCII is escaped bytes; read from text, it is itself
    for msg in (message_from_raw(raw), email.message_from_string(raw.decode("utf-8", "surrogateescape"))):
        for detector, cannot in _CANNOT_FIND.items():
            if cannot(msg, _Lazy(msg)):
                assert detector().process(msg) == (frozenset(), frozenset()), detector.__name__
        try:
            want = flufl_all_failures(msg)
        except Exception as exc:
            try:
                all_failures(msg)
            except type(exc):
                continue
            raise AssertionError(f"flufl.bounce raises {exc!r}, the scan does not") from None
        assert all_failures(msg) == want


_HEADER_BLOCK_LINES = st.lists(st.one_of(
    st.sampled_from([b"Subject: hi", b"Subject:hi", b"Subject:\t  two  words ", b"X-A:", b"From: a@b.c", b"From a@b.c",
                     b"From:x", b": no name", b"No colon", b" folded", b"\tfolded", b" ", b"", b"Name : spaced",
                     b"Content-Type: multipart/mixed; boundary=b", b"Content-Type: message/rfc822",
                     b"Caf\xc3\xa9: 8-bit name", b"Subject: caf\xe9", b"X\x7fY: del", b"A:b:c", b"--b", b"x\x0by: z",
                     b"Subject: a\x0bb", b"Subject: \x1c", b"Subject: \x85"]),
    st.binary(max_size=12)),
    max_size=8)
_LINE_BREAKS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HEADER_BLOCK_LINES, st.lists(_LINE_BREAKS, min_size=8, max_size=8), st.booleans())
def test_a_header_block_reads_as_the_library_reads_it(lines, breaks, last_break):
    """The splitter reads a part's plain header block itself; wherever it does, it gets the
    headers (names, raw values, order) the standard library's parser gets from the same bytes."""
    import email

    from app.mail.mime import _BODY_DEFECTS, IndexedMessage, plain_headers

    block = _joined(lines, breaks, last_break)
    header_lines = block.splitlines(keepends=True)
    mine = plain_headers(header_lines)
    if mine is None:
        return
    theirs = email.message_from_bytes(block + b"\n", IndexedMessage, policy=email.policy.compat32)
    assert list(mine.raw_items()) == list(theirs.raw_items()), block
    assert mine.get_payload() == "" and mine.defects == []
    assert [d for d in theirs.defects if type(d).__name__ not in _BODY_DEFECTS] == [], block


def _reason_words():
    from app.mail import bounce_reason
    return bounce_reason._WORDS


_REASON_FRAGMENTS = sorted({w for _, words in _reason_words() for w in re.findall(r"[^\W\d_]+|'", words)}
                           | {" ", "  ", "\n", "-", "1", "x" * 61})


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.sampled_from([words for _, words in _reason_words()]).flatmap(st.from_regex),
                 st.lists(st.sampled_from(_REASON_FRAGMENTS), max_size=10).map(" ".join),
                 st.lists(st.sampled_from(_REASON_FRAGMENTS), max_size=10).map("".join)),
       st.integers(0, 2))
def test_a_reasons_words_grouped_by_first_letter_match_where_the_words_do(text, cut):
    """A bounce's reason is read with each reason's alternation regrouped by first letter: it
    matches a notice's words wherever the alternation as written does."""
    from app.mail import bounce_reason

    text = text[cut:]
    for (reason, words), (_, grouped) in zip(_reason_words(), bounce_reason._WORDING, strict=True):
        assert (re.search(words, text) is None) == (grouped.search(text) is None), (reason, text)
    named = any(re.search(words, text) for _, words in _reason_words())
    assert named == (bounce_reason._ANY_WORDING.search(text) is not None), text


# quantified first letters, "|" and parentheses in classes and escaped: not in today's words
_ODD_ALTERNATIONS = ["a?b|ac|ad", "a*b|ab", "a{2}c|ab", "a+c|ab", "[|(]x|[)]y|y|[(]z", r"\(a|\|b|\(c|\)d",
                     "a[|]b|ac", r"a\|b|ac|a\(", "a(b|c)d|ae", "a[(]b|a[)]c"]


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(_ODD_ALTERNATIONS).flatmap(
    lambda p: st.tuples(st.just(p), st.one_of(st.from_regex(p), st.text("abcdxyz()|", max_size=6)))))
def test_alternatives_regrouped_by_first_letter_match_as_written(case):
    from app.mail.bounce_reason import by_first_letter

    pattern, text = case
    assert (re.search(pattern, text) is None) == (re.search(by_first_letter(pattern), text) is None), case


_DSN_HEADERS = st.sampled_from([b"Content-Type: message/delivery-status", b"Content-type: Message/Delivery-Status; x=y",
                                b"Content-Type: message/delivery-status x", b"Content-Type: message/rfc822",
                                b"Content-Type: message/global-delivery-status", b"From x\nContent-Type: message/delivery-status",
                                b"Content-Description: status\nContent-Type: message/delivery-status"])
_DSN_LINES = st.sampled_from([b"Reporting-MTA: dns; mx.example", b"Action: failed", b"Status: 5.1.1", b"Final-Recipient: rfc822; a@b.c",
                              b" folded", b"\tfolded", b"From x", b"From: y", b": x", b"not a header", b"Content-Type: message/rfc822",
                              b"content-type: text/plain", b"", b"", b"Diagnostic-Code: smtp; 550 caf\xc3\xa9", b"X\x0bY: z"])


def _joined(lines: list[bytes], breaks: list[bytes], last_break: bool) -> bytes:
    """``lines`` each ended by its break, the last one without it unless ``last_break``."""
    body = b"".join(line + brk for line, brk in zip(lines, breaks, strict=False))
    if lines and not last_break:
        body = body[:-len(breaks[len(lines) - 1])]
    return body


def _library_shape(msg) -> tuple:
    payload = msg.get_payload()
    inner = [_library_shape(p) for p in payload] if isinstance(payload, list) else payload
    return (tuple(msg.raw_items()), msg.get_content_type(), msg.get_default_type(), msg.get_unixfrom(),
            [type(d).__name__ for d in msg.defects], msg.preamble, msg.epilogue, inner)



def _assert_built_as_the_library_reads_it(build, headers: bytes, body: bytes) -> None:
    """A part ``build`` puts together without the feed parser (None: it leaves it to the
    parser) has the shape the library gives the same bytes."""
    import email

    from app.mail.mime import IndexedMessage

    mine = build(headers + b"\n", body)
    if mine is None:
        return
    theirs = email.message_from_bytes(headers + b"\n\n" + body, IndexedMessage, policy=email.policy.compat32)
    assert _library_shape(mine) == _library_shape(theirs), body

@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DSN_HEADERS, st.lists(_DSN_LINES, max_size=10), st.lists(_LINE_BREAKS, min_size=10, max_size=10), st.booleans())
def test_a_delivery_status_part_reads_as_the_library_reads_it(headers, lines, breaks, last_break):
    """The blocks of a delivery-status part, read without the feed parser where they are plain
    header blocks, are the library's: the same messages with the same headers, in the same order."""
    from app.mail.mime import _delivery_status

    _assert_built_as_the_library_reads_it(_delivery_status, headers, _joined(lines, breaks, last_break))


_CODE_TEXT = st.lists(st.one_of(st.sampled_from(["5.1.1", "4.2.2", "2.0.0", "550", "451-", "5.7.1.", ".5.1.1", "15.1.1",
                                                  "5.1.1234", "550 ", "4 ", "5", ".", "-", " ", "\n", "a", "x5.0.0 "]),
                                 st.text("0123456789.- \t\n5x", max_size=4)), max_size=12).map("".join)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_CODE_TEXT, st.integers(0, 3))
def test_status_codes_are_found_where_the_look_behind_first_patterns_find_them(text, pos):
    """A bounce's status codes are read with patterns that look behind their first digit only
    after matching it: they find every code at the place, and with the parts, the look-behind
    first spelling finds."""
    from app.mail import bounce

    for pattern, written in ((bounce._STATUS, r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])"),
                             (bounce._SMTP_CODE, r"(?<!\d)([45])\d\d(?=[\s-])")):
        want = [(m.span(), m.groups()) for m in re.compile(written).finditer(text, pos)]
        assert [(m.span(), m.groups()) for m in pattern.finditer(text, pos)] == want, text


_MESSAGE_HEADERS = st.sampled_from([b"Content-Type: message/rfc822", b"Content-Type: Message/RFC822; x=y",
                                    b"Content-Type: message/global", b"Content-Type: message/delivery-status",
                                    b"Content-Type: message/rfc822-headers", b"Content-Type: text/plain", b"Subject: no type",
                                    b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64",
                                    b"Content-Type: message/rfc822 x", b"Content-Type: message"])
_MESSAGE_LINES = st.sampled_from([b"Message removed", b"", b"Subject: x", b"From x", b"From: y", b": y", b" folded",
                                  b"\tfolded", b"text", b"caf\xc3\xa9", b"--b", b"Content-Type: multipart/mixed; boundary=b"])


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_MESSAGE_HEADERS, st.lists(_MESSAGE_LINES, max_size=6), st.lists(_LINE_BREAKS, min_size=6, max_size=6),
       st.booleans())
def test_an_attached_message_left_closed_reads_as_the_library_reads_it(headers, lines, breaks, last_break):
    """An attached message the splitter left closed (one cut to "Message removed", the headers
    of a message/rfc822-headers part), put together without the feed parser, is the library's:
    the part, and inside it one message with its headers and its text, with the same defects."""
    from app.mail.mime import _message_part

    _assert_built_as_the_library_reads_it(_message_part, headers, _joined(lines, breaks, last_break))


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_SPEC, st.text(alphabet="ab ,;<>@.\"\\()é\t", max_size=12), st.sampled_from([" (", "(", "  (", " ((", " )"]),
       st.sampled_from([")", "))", ") ", ")x", ""]))
def test_a_commented_sender_reads_as_parseaddr_reads_it(spec, comment, opening, closing):
    """The bounce scan reads a sender written ``address (comment)`` itself: wherever it does, it
    gets the address ``email.utils.parseaddr`` gets."""
    from email.utils import parseaddr

    from app.mail.bounce_scan import _COMMENTED

    for value in (f"{spec}{opening}{comment}{closing}", f"{spec}{opening}{comment}{closing}".lower()):
        m = _COMMENTED.fullmatch(value)
        if m is not None:
            assert m.group(1) == parseaddr(value)[1], value


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(max_size=20), st.text(alphabet="ab \t=?\x00\x7f", max_size=20),
                 st.binary(max_size=20).map(lambda b: b.decode("ascii", "surrogateescape"))))
def test_header_text_turned_back_from_escapes_as_by_encoding_it(value):
    """A header value without 8-bit bytes is taken as it is: the same text as encoding its
    surrogate escapes back to bytes and decoding those."""
    try:
        want = headers.decode_bytes(value.encode("ascii", "surrogateescape"))
    except UnicodeEncodeError:
        want = value
    assert headers._from_surrogates(value) == want


@_SETTINGS
@given(st.one_of(st.binary(max_size=300), _MAILISH), st.data())
def test_a_run_of_lines_is_the_slice_of_the_message_between_their_offsets(raw, data):
    """The splitter takes a part's header block and body as a slice of the message between two
    line offsets: the same bytes as its lines joined."""
    from app.mail.mime import _Splitter

    splitter = _Splitter(raw)
    n = len(splitter.lines)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    assert splitter.raw[splitter.offsets[start]:splitter.offsets[end]] == b"".join(splitter.lines[start:end])


def _phrase_words() -> list[str]:
    from app.mail.folding import fold_pattern
    from app.mail.rules import default_rules

    rules = default_rules()
    words = {w for patterns in (rules.intents["interested"], rules.intents["not_interested"], rules.ooo_body)
             for p in patterns for w in re.findall(r"[a-z']{2,}", fold_pattern(p))}
    return sorted(words)


_PHRASE_TEXT = st.lists(st.one_of(st.sampled_from(_phrase_words()), st.sampled_from([" ", ". ", "no", "x"])),
                        max_size=14).map(" ".join)
# a text holding one phrase of a set among words of others: its pieces choose that phrase
_PHRASE_HELD = st.tuples(_PHRASE_TEXT, st.sampled_from(_phrase_words()), st.sampled_from(_phrase_words())).map(
    lambda t: f"{t[1]} {t[2]} {t[0]}")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_PHRASE_TEXT, _PHRASE_HELD), min_size=1, max_size=12), st.sampled_from(["interested", "not_interested", "ooo_body"]),
       st.booleans())
def test_an_alternation_remembered_by_the_pieces_a_text_holds_finds_what_the_whole_one_finds(texts, which, at_word):
    """Replies of the same wording get the alternation chosen for the first of them without
    choosing again: every text still finds, with what it is handed (the phrases it can hold,
    searched one by one, or compiled and searched only where one of them can start), what the
    whole alternation finds (texts met once, twice and thrice, in any order, and one until its
    choice is compiled), with or without the intent reader's word start (a class the first
    character of a match is in), as the whole alternation written plainly finds."""
    from app.mail.folding import fold_pattern
    from app.mail.intent import _WORD_START
    from app.mail.phrases import COMPILE_AT, Phrases, grams
    from app.mail.rules import default_rules

    rules = default_rules()
    patterns = rules.ooo_body if which == "ooo_body" else rules.intents[which]
    folded = tuple(fold_pattern(p) for p in patterns)
    phrases = Phrases(folded, _WORD_START if at_word else "")
    whole = _whole_alternation(folded, _WORD_START if at_word else "")
    for text in texts * 3 + texts[:1] * COMPILE_AT:
        rx = phrases.for_text(grams(text))
        for pos in (0, len(text) // 2):
            want = whole.search(text, pos)
            got = rx.search(text, pos) if rx is not None else None
            assert (want and want.span()) == (got and got.span()), (text, pos)


def _whole_alternation(patterns: tuple[str, ...], start: str = "") -> re.Pattern[str]:
    """The phrases' alternation written plainly, behind a look for ``start`` where one is given:
    what every way ``Phrases`` searches must find."""
    return re.compile((f"(?={start})" if start else "") + f"(?:{'|'.join(f'(?:{p})' for p in patterns)})")


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet="ab c", max_size=8), min_size=1, max_size=6), st.data())
def test_the_pieces_handed_out_again_are_the_pieces_of_the_text_asked_for(texts, data):
    """A text's pieces handed out again for the same text that comes next are its own pieces,
    whatever text came before it: those that a phrase set indexes."""
    from app.mail import phrases

    phrases.Phrases(("ab c", "bab|bba", "a c|c b", "aaa"))  # indexes pieces of these texts
    for text in texts * 2 + [data.draw(st.sampled_from(texts))] * 2:
        every = {text[i:i + phrases.GRAM] for i in range(len(text) - phrases.GRAM + 1)}
        assert phrases.grams(text).indexed() == every & phrases._INDEXED, text


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=60), st.lists(st.text(min_size=3, max_size=5), max_size=4))
def test_the_sieve_finds_every_indexed_piece_of_a_text(text, phrases_of_text):
    """The indexed pieces of any text (any code point: the sieve's places are computed from
    them) are found the same way in both forms of the reader: through the sieve, and by cutting
    every piece and intersecting them with the indexed ones; so too once a phrase set indexes
    pieces of this very text."""
    from app.mail import phrases

    assert _found(phrases._sieved(text)) == _found(phrases._intersected(text))
    phrases.Phrases(tuple(re.escape(p) for p in phrases_of_text) or (re.escape(text[:3]) or "x",))
    assert _found(phrases._sieved(text)) == _found(phrases._intersected(text))
    every = {text[i:i + 3] for i in range(len(text) - 2)}
    assert phrases.named(phrases._sieved(text)[0]) == every & phrases._INDEXED


def _found(found: tuple[list[int], bytearray]) -> tuple[list[int], bytearray]:
    """A text's piece numbers in order, and the byte of each number met: one for those found."""
    numbers, met = found
    assert len(numbers) == len(set(numbers)) and met == bytearray(k in numbers for k in range(len(met)))
    return sorted(numbers), met


def test_pieces_that_share_a_place_of_the_sieve_are_both_found():
    """Two indexed pieces at one place of the sieve: a text holding either is found to hold it,
    and only it (the sieve says "look at the piece itself" there)."""
    from app.mail import phrases

    by_place: dict[int, str] = {}
    pair = None
    for a in "abcdefghijklmnopqrstuvwxyz":  # two pieces of one place (found by trying)
        for b in "abcdefghijklmnopqrstuvwxyz":
            for c in map(chr, range(0x61, 0x250)):
                piece = f"{a}{b}{c}"
                other = by_place.setdefault(phrases._sieve_place(ord(a), ord(b), ord(c)), piece)
                if other != piece and pair is None:
                    pair = (other, piece)
    assert pair is not None
    first, second = pair
    phrases.Phrases((first, second))
    assert phrases._sieve_entry(phrases._sieve, phrases._sieve_place(*map(ord, first))) == phrases._SHARED
    for text, held in [(f"{first} x", {first}), (f"x {second}", {second}), (f"{second}{first}", {first, second}),
                       ("nothing", set())]:
        assert phrases.named(phrases._sieved(text)[0]) & {first, second} == held
        assert phrases.grams(text).indexed() & {first, second} == held


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet="aÉé ßﬁ\u0301\u2019x", max_size=6), min_size=1, max_size=6), st.data())
def test_a_folding_handed_out_again_is_the_folding_of_the_text_asked_for(texts, data):
    """A text's folding handed out again for the same text that comes next is its own, whatever
    text came before it: as the folding of the text with one more character, which nothing hands
    out again, but for that character."""
    from app.mail.folding import fold

    for text in texts * 2 + [data.draw(st.sampled_from(texts))] * 2:
        got, again = fold(text), fold(text)
        assert got == again == fold(text + "\x00")[:-1], text


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=12))
def test_a_text_is_cut_in_every_piece_of_it(text):
    """Cutting a text as the reader in Python does gives every piece of it, and nothing else,
    whatever its characters."""
    from app.mail.phrases import GRAM, _shifted

    assert _shifted(text) == {text[i:i + GRAM] for i in range(len(text) - GRAM + 1)}, text


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(min_value=0, max_value=400), max_size=60))
def test_a_choice_of_phrases_kept_as_bits_gives_back_its_phrases_in_order(places):
    """A choice of phrases is kept as the bits of an int: it gives back the same phrases, once
    each, in their order (a choice searched phrase by phrase finds the first phrase's match)."""
    from app.mail.phrases import _mask, _places

    assert _places(_mask(places)) == sorted(set(places))


_PATTERN_PIECES = st.sampled_from(["a", "b", "c", " ", "ab", "(?:a|b)", "a?", "b*", "(?:ab)+", "[bc]", "[a-c]", r"\b",
                                   "(?=a)", "(?!b)", "(?<=a)", "(?:a|)", "c{0,2}", "[^a]", r"\w", ".", "(?i:a)", "(?:b|c ?)",
                                   "a|b", "(a)", "b{2}"])


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_PATTERN_PIECES, min_size=1, max_size=5).map("".join), st.text(alphabet="abcAB -", max_size=12))
def test_a_match_starts_with_one_of_the_first_characters_read_off_its_pattern(pattern, text):
    """Where the characters a pattern's matches begin with are read off it, every match anywhere in
    a text begins with one of them (and is not empty): a search that skips the places starting with
    another misses nothing."""
    from app.mail.phrases import first_chars

    starts = first_chars(pattern)
    if starts is None:
        return  # not sure: the phrases it is among are searched everywhere
    rx = re.compile(pattern)
    for at in range(len(text) + 1):
        m = rx.match(text, at)
        assert m is None or (m.end() > at and text[at] in starts), (pattern, text, at, sorted(starts))


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_PATTERN_PIECES, min_size=1, max_size=6).map("".join), st.text(alphabet="abcAB -", max_size=14))
def test_a_phrase_searched_from_near_its_run_finds_the_match_searched_from_anywhere(pattern, text):
    """Where a pattern's run and its reach are read off it, every match in a text holds the run
    no further from its start than the reach. So a phrase searched alone from that far before the
    run's first place finds the same first match as searched from the place asked; a look behind
    and a word's edge still see the characters before where the search starts."""
    from app.mail.phrases import _Alone, _first, required_run, run_reach

    run, reach = required_run(pattern), run_reach(pattern)
    rx = re.compile(pattern)
    if run and reach >= 0:
        for at in range(len(text) + 1):
            m = rx.match(text, at)
            if m is not None:
                held = text.find(run, at)
                assert 0 <= held - at <= reach and held + len(run) <= m.end(), (pattern, text, at, reach)
    alone = _Alone(run, rx, reach)
    for pos in range(len(text) + 1):
        want, got = rx.search(text, pos), _first(alone, text, pos)
        assert (want and want.span()) == (got and got.span()), (pattern, text, pos, run, reach)


_ALTERNATION = st.tuples(st.lists(st.lists(_PATTERN_PIECES, min_size=1, max_size=3).map("".join), min_size=2, max_size=3),
                         st.sampled_from(["", "", "?", "*", "+?", "{1,2}"])).map(
    lambda alternation: "(?:" + "|".join(alternation[0]) + ")" + alternation[1])
_PHRASES = st.lists(st.one_of(_PATTERN_PIECES, _ALTERNATION, st.sampled_from([r"\b", "(?=a)", "(?<!b)", "(?:"])),
                    min_size=1, max_size=5).map("".join)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_PHRASES, st.text(alphabet="abcAB -", max_size=14))
def test_a_phrase_taken_apart_finds_the_match_of_the_phrase_whole(pattern, text):
    """A phrase taken apart at the alternation it begins with finds, searched branch by branch as
    a choice of phrases is (the leftmost match, and of those starting at one place the first
    branch's), the match the phrase whole finds, from any place."""
    from app.mail.phrases import _Alone, _Each, leading_branches, required_run, run_reach

    try:
        rx = re.compile(pattern)
    except re.error:
        return  # not a pattern (an unclosed group): no phrase is written so
    apart = leading_branches(pattern)
    each = _Each([_Alone(required_run(p), re.compile(p), run_reach(p)) for p in apart])
    for pos in range(len(text) + 1):
        want, got = rx.search(text, pos), each.search(text, pos)
        assert (want and want.span()) == (got and got.span()), (pattern, apart, text, pos)


_WORDING_PIECES = st.sampled_from(["could not be delivered", "couldn't be delivered", "cannot be delivered", "can not",
                                   "user unknown", "unknown user", "undeliverable", "delivery has failed", "was not delivered",
                                   "permanent error", "permanently fatal", "will continue trying", "will keep to try",
                                   "delivery attempts will continue", "delivery has been delayed", "still trying",
                                   "mailbox is full", "mailbox full", "recipient address rejected", "does not exist",
                                   "Could", "CAN", "ſtill trying", "u", "d", " ", "\n", "x", "é"])


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_WORDING_PIECES, st.text(max_size=3)), max_size=10).map("".join), st.integers(0, 3))
def test_bounce_wording_grouped_by_first_letter_matches_what_the_words_as_written_match(text, pos):
    """The bounce wording found in a body (shown as the reason it reads as a bounce) is the same
    text at the same place as the words' alternation, as written, finds case-blind."""
    from app.mail import bounce

    m = re.compile(bounce._BODY_WORDS, re.IGNORECASE).search(text, pos)
    assert bounce._BODY.span(text, pos=pos) == (m.span() if m else None), text


_NOTICE_PIECES = st.sampled_from(["Undeliverable: ", "Mail Delivery Subsystem", "MAILER-DAEMON", "mailer daemon",
                                  "Delivery Status Notification (Failure)", "delivery failed", "Não entregue", "NAO ENTREGUE",
                                  "nao entregue", "non-delivery", "nondeliver", "Returned mail", "rejected:", "Microsoft Outlook",
                                  "Postmaster", "Re: ", "delivery", "mail ", "ſ", "K", "İ", "ã", "Ã", "u", "n", " ", "x"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_NOTICE_PIECES, st.text(max_size=3)), max_size=10).map("".join))
def test_a_bounces_sender_and_subject_words_are_found_where_the_words_as_written_are(text):
    """Whether a sender's name or a subject reads as a bounce's (the first look at every message)
    is what a case-blind search of the words as written says, whatever the text's letters."""
    from app.mail import bounce

    for found, words in ((bounce._SUBJECT, bounce._SUBJECT_WORDS), (bounce._SENDER_NAME, bounce._SENDER_NAME_WORDS)):
        m = re.compile(words, re.IGNORECASE).search(text)
        assert found.span(text) == (m.span() if m else None), (words[:30], text)


_CONTENT_TYPE_PIECES = st.sampled_from([
    "text/plain", "TEXT/Html", "multipart/mixed", "text", "/", "", " ", "\t", ";", "; ", "charset", "CharSet",
    "CHARSET", "boundary", "Boundary", "charset*", "charset*0*", "name*", "x*0", "=", " = ", '"', "'", "utf-8",
    "UTF-8", "iso-8859-1", '"utf-8"', '"a;b"', '"a=b"', '""', "<x>", '"<x>"', "format=flowed", "\\", '\\"', "*",
    "\u017f", "\u212a", "\u00e9", "\r\n\t", "\n ", "\x0b", "us-ascii'en'", "%41"])
_SIMPLE_TYPES = st.from_regex(_SIMPLE_TYPE, fullmatch=True)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(_SIMPLE_TYPES, st.lists(_CONTENT_TYPE_PIECES, max_size=12).map("".join),
                 st.tuples(_SIMPLE_TYPES, st.lists(_CONTENT_TYPE_PIECES, max_size=6).map("".join)).map("".join),
                 st.lists(st.sampled_from(["charset=utf-8", "boundary=b", 'BOUNDARY="x y"', "format=flowed",
                                           "charset=", 'name=""']), max_size=4).map(
                     lambda ps: "; ".join(["multipart/mixed", *ps]))))
@example('text/plain; charset="UTF-8"; format=flowed')
@example("text/plain; charset=utf-8; x*=a; x*0=b")
@example('multipart/report; report-type=delivery-status; boundary="<b>"; boundary=c')
def test_a_parts_parameters_read_as_the_library_reads_them(value):
    """A part's Content-Type parameters are read directly where the value has the common shape:
    whatever the header says, a parameter, the charset and whether there is a boundary are the
    library's answers (the charset None where the library fails)."""
    from email.message import Message

    from app.mail.mime import IndexedMessage, simple_params

    for msg in (Message(), IndexedMessage()):
        msg["Content-Type"] = value
        try:
            want = msg.get_content_charset()
        except Exception:
            want = None
        assert _charset(msg) == want, value
        params = simple_params(msg)
        if params is not None:
            assert ("boundary" in params) == (msg.get_boundary() is not None), value
            for name in ("charset", "boundary", "format", "name", "report-type", "x"):
                assert params.get(name) == msg.get_param(name), (value, name)


class _NotPlainStr(str):
    """A str the header decoder cannot take for a plain one: it goes all the way."""


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(alphabet="ab =?\t\x7f\x1c\u00e9\u00a0Q_", max_size=16), st.text(max_size=8)))
@example("a  b")
@example(" a")
@example("=?utf-8?q?caf=C3=A9?=")
def test_a_plain_header_value_decodes_as_every_value_does(value):
    """Most header values are plain printable ASCII on one line, handed back as they are: the
    answer for them is the one the whole decoding (surrogates, encoded words, folding) gives."""
    assert headers.decode_header(value) == headers.decode_header(_NotPlainStr(value)), value


def _opens_history_as_written(lines: list[str], i: int) -> bool:
    """``quotes._opens_history`` with every pattern tried on every line (no pre-checks)."""
    q = quotes
    line = lines[i]
    if len(line) > 400:
        return False
    if q._SEPARATOR.match(line):
        return True
    if q._HEADER_FIRST.match(line):
        following = [ln for ln in lines[i + 1:i + 5] if ln.strip()]
        if any(q._HEADER_NEXT.match(ln) or q._HEADER_FROM.match(ln) for ln in following[:3]):
            return True
    if q._is_attribution(line):
        return True
    if q._DATE_AND_ADDRESS.match(line):
        following = [ln for ln in lines[i + 1:i + 4] if ln.strip()]
        return bool(following) and q._is_quote(following[0])
    if q._STARTER.match(line):
        joined = line.strip()
        for nxt in lines[i + 1:i + 6]:
            if q._STARTER.match(nxt) or q._is_attribution(nxt):
                break
            joined = f"{joined} {nxt.strip().lstrip('>').strip()}".strip()
            if len(joined) > 400:
                break
            if q._is_attribution(joined):
                return True
    if i + 1 < len(lines) and line.strip() and len(lines[i + 1]) < 200:
        joined = f"{line.rstrip()} {lines[i + 1].strip()}"
        if not q._is_attribution(joined):
            return False
        return (not q._is_attribution(lines[i + 1]) or q._STARTER.match(line) is not None
                or line.rstrip().endswith(("<", ",")))
    return False


_REPLY_LINES = st.one_of(st.sampled_from([
    "On Mon, Jan 5, 2026 at 10:00 AM Pat <pat@prospect.example> wrote:", "On Mon, Jan 5, 2026 at 10:00 AM Pat",
    "<pat@prospect.example> wrote:", "wrote:", "Pat wrote", "-", "On peut en parler.", "From: Pat Prospect",
    "Sent: Monday, January 5, 2026", "To: me@example.com", "Subject: Re: hi", "Von: Pat", "Gesendet: Montag",
    "-----Original Message-----", "---------- Forwarded message ---------", "_" * 24, "* * *",
    "Begin forwarded message:", "BEGIN FORWARDED MESSAGE:", "12/03/2024 Pat <pat@prospect.example>",
    "12/03/2024 10:00, pat@prospect.example:", "> quoted", ">", "", " ", "\t", "text -", "Thanks,",
    "Am 3. März 2026 um 10:00 schrieb Pat <pat@prospect.example>:", "Le 3 mars 2026, Pat a écrit :",
    "<", "mailto:pat@prospect.example>", "Pat <pat@prospect.example>,", "\u00a0", "\u2028wrote:", "x\u3000",
    "On 3/5/26, Pat <pat@prospect.example> wrote:\u00a0", "Date: 5 Jan", "de: pat", "10:00 <pat@x.io>:"]),
    st.text(alphabet="On wrote:-_*@<>\u00a0\t.5/", max_size=12))


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_REPLY_LINES, min_size=1, max_size=8))
@example(["Pat", "wrote:"])
@example(["Pat <pat@prospect.example> wrote:", ""])
@example(["---- Pat wrote ----", "x"])
@example(["---- Pat", "wrote ----"])
def test_each_line_opens_the_history_where_every_pattern_tried_on_it_says_so(lines):
    """The lines of a reply are looked at with cheap checks before the patterns that find where
    the quoted history opens: the answer for every line is the one trying every pattern gives."""
    for i in range(len(lines)):
        assert quotes._opens_history(lines, i) == _opens_history_as_written(lines, i), (lines, i)


_DATE_PIECES = st.sampled_from(["Sat, ", "sat, ", "Xyz, ", "05", "5", "31", "30", "00", "99", " ", "  ", "Dec", "dec",
                                "DEC", "Feb", "Foo", "2026", "1969", "2201", "0026", "01:00:00", "23:59:60", "24:00:00",
                                "1:00:00", "01:00", "+0000", "-0000", "+0530", "-0530", "+2400", "+0099", "+00",
                                " (UTC)", " (PST)", "\t", ":", ","])


_WRITTEN_DATES = st.builds(
    "{}{:0{}d} {} {} {:02d}:{:02d}:{:02d} {}{:02d}{:02d}{}".format,
    st.sampled_from(["", "Sat, ", "mon, "]), st.integers(1, 31), st.sampled_from([1, 2]),
    st.sampled_from(["Jan", "feb", "MAR", "Dec", "Foo"]), st.sampled_from(["1969", "1970", "2026", "2200", "2201"]),
    st.integers(0, 24), st.integers(0, 60), st.integers(0, 60), st.sampled_from(["+", "-"]), st.integers(0, 24),
    st.integers(0, 99), st.sampled_from(["", " (UTC)", " (CET)"]))


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(_WRITTEN_DATES, st.from_regex(headers._PLAIN_DATE, fullmatch=True),
                 st.lists(_DATE_PIECES, max_size=10).map("".join),
                 st.lists(_DATE_PIECES, min_size=5, max_size=9).map(" ".join)))
@example("Sat, 05 Dec 2026 01:00:00 -0000")
@example("Sat, 30 Feb 2026 01:00:00 +0000")
@example("Sat, 05 Dec 2026 01:00:00 +2400")
@example("Sat, 05 Dec 1969 23:00:00 -0200")
@example("1 APR 0000 00:00:00 -0000")
@example("1 Apr 0070 00:00:00 +0000")
def test_a_date_in_the_common_shape_reads_as_every_date_does(value):
    """Most Date headers have one shape, read directly: the answer is the library's reading (and
    ``parse_date``'s checks on it) for every value."""
    fast, full = headers.parse_date(value), headers.parse_date(_NotPlainStr(value))
    assert fast == full and (fast is None or fast.utcoffset() == full.utcoffset()), value


_INLINE_LINES = st.lists(st.one_of(
    st.sampled_from(["From: Pat <pat@prospect.example>", "To: a@b.c, d@e.f", "Subject: hi", "Date: x", "Cc:\tx",
                     " folded", "\tfolded", "Message-ID: <1@x>", "X-A: caf\u00e9", "Received: from x", "A:b",
                     "Return-Path: <>", "To: \u00e9@x.y", "Subject: two  spaces "]),
    st.text(alphabet="ab: \t@<>", max_size=10)), max_size=8)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_INLINE_LINES)
@example(["From: a@b.c", "To: d@e.f"])
@example(["From: a@b.c", " folded", "To: d@e.f"])
def test_an_inline_copys_headers_read_as_the_library_reads_them(lines):
    """The headers of a returned message copied into a notice's text are read as a part's header
    block is: the same headers, in the same order, as the library's header parser reads."""
    from email.parser import HeaderParser

    from app.mail import bounce_rcpt

    mine = bounce_rcpt.inline_headers(lines, 0)
    block = bounce_rcpt._header_block(lines, 0)
    if not block:
        assert mine is None
        return
    assert list(mine.raw_items()) == list(HeaderParser().parsestr("\n".join(block)).raw_items()), block


_PHRASE_PIECES = st.sampled_from(["abc", "bca", "cab", " abc", "-bca", "a", "b", " ", "-", "(?:a|b)", "[bc]", r"\b",
                                  r"\S", ".", "(?i:a)", "c?", "(?:-|a)", "(?=a)", "(?<=b)"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(_PHRASE_PIECES, min_size=1, max_size=4).map("".join), min_size=1, max_size=5),
       st.sampled_from(["", "[^ -]", "[ab]", r"[^\s.,;:!?()\-]"]),
       st.lists(st.text(alphabet="abcAB -", max_size=14), min_size=1, max_size=4))
def test_phrases_with_a_start_class_find_what_the_alternation_behind_a_look_for_it_finds(patterns, start, texts):
    """Phrases told that a match begins with a character of a class find, searched one by one
    (some without the look for the class, where they cannot begin otherwise), in a choice of one,
    or compiled, what the whole alternation behind a look for the class finds."""
    from app.mail.phrases import COMPILE_AT, Phrases, grams

    phrases = Phrases(tuple(patterns), start)
    whole = _whole_alternation(tuple(patterns), start)
    for text in texts * (COMPILE_AT + 1):
        rx = phrases.for_text(grams(text))
        for pos in range(len(text) + 1):
            want = whole.search(text, pos)
            got = rx.search(text, pos) if rx is not None else None
            assert (want and want.span()) == (got and got.span()), (patterns, start, text, pos)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(_PHRASE_PIECES, min_size=1, max_size=4).map("".join), min_size=2, max_size=5),
       st.lists(st.text(alphabet="abc -", max_size=14), min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 15)), min_size=1, max_size=12))
def test_phrases_searched_one_by_one_find_the_alternations_match_whatever_was_searched_before(
        patterns, texts, searches):
    """A choice searched phrase by phrase keeps each phrase's match from the last search of the
    same text and searches again only those that start before the new place: searches from
    places further on, back again, and in another text in between all find what the whole
    alternation finds from there."""
    from app.mail.phrases import Phrases, grams

    phrases = Phrases(tuple(patterns))
    whole = _whole_alternation(tuple(patterns))
    every = "".join(texts)  # one text that holds every piece, so the choice is one by one
    each = phrases.for_text(grams(every))
    if each is None or isinstance(each, re.Pattern):
        return
    for which, pos in searches:
        text = texts[which] if which < len(texts) else every
        pos = min(pos, len(text))
        want = whole.search(text, pos)
        got = each.search(text, pos)
        assert (want and want.span()) == (got and got.span()), (patterns, text, pos)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_PATTERN_PIECES, min_size=1, max_size=5).map("".join))
def test_a_pattern_said_to_skip_to_its_start_is_one_the_regex_engine_skips_with(pattern):
    """Where a phrase is searched as written because the engine skips to where it can begin, the
    engine's own compiler gives it what it skips with (a literal prefix or a set of first
    characters): otherwise it would be tried at every place, slower than behind a look."""
    from re import _compiler, _constants, _parser

    from app.mail.phrases import skips_to_start

    if not skips_to_start(pattern):
        return
    code = _compiler._code(_parser.parse(pattern), 0)
    assert code[0] == _constants.INFO and code[2] & (_constants.SRE_INFO_PREFIX | _constants.SRE_INFO_CHARSET), pattern


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aZ\\[]^-sS(?:)é", max_size=12))
def test_a_pattern_is_folded_the_same_whole_as_a_character_at_a_time(pattern):
    """An ASCII pattern is folded whole (its letters lower-cased but each escaped one): as the
    folding a character at a time does it, escapes, classes and a last backslash alike."""
    from app.mail.folding import _fold_pattern_loop, fold_pattern

    assert fold_pattern(pattern) == _fold_pattern_loop(pattern)
