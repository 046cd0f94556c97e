"""The standard library tree that bounce reading walks is put together from the parts ``parse``
already read; wherever it is, it is the tree ``email.message_from_bytes(raw, policy=compat32)``
builds: the same parts, headers and bodies, so flufl.bounce and the DSN reading see the same mail."""

from __future__ import annotations

import email.message
import pickle
from pathlib import Path

import pytest

from app.mail import parse
from app.mail.mime import library_tree
from app.mail.parse import library_message, message_from_raw

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
MESSAGES = sorted((ROOT / "tests" / "fixtures").rglob("*.eml")) + (
    sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt")
           and p.parent.name in ("eml", "samples")) if CORPUS.is_dir() else [])


def shape(msg: email.message.Message) -> tuple:
    payload = msg.get_payload()
    # the bytes as read (the text view of 8-bit bytes is U+FFFD)
    inner = [shape(p) for p in payload] if isinstance(payload, list) else msg.get_payload(decode=True)
    return tuple(msg.raw_items()), msg.get_content_type(), inner


def built(raw: bytes) -> email.message.Message | None:
    root, defects = parse(raw).library_tree
    return library_tree(root, defects)


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: p.name)
def test_the_tree_is_the_librarys(path: Path) -> None:
    raw = path.read_bytes()
    tree = built(raw)
    if tree is not None:
        assert shape(tree) == shape(message_from_raw(raw))


def test_a_folded_line_starting_with_a_colon_needs_no_mending() -> None:
    """A DKIM or ARC header folds its list of signed headers so that a line starts with blanks and
    a colon: no "Name :" header, so the block is read as written, in one parse, as the library
    reads it; a real "Name :" header in the same block is still mended."""
    dkim = (b"DKIM-Signature: v=1; a=rsa-sha256; d=prospect.example;\r\n"
            b"        h=to:subject:message-id:date:from\r\n         :dkim-signature;\r\n"
            b"        b=Mn1Bv2Cx3Za4\r\n")
    raw = dkim + b"From: Pat <pat@prospect.example>\r\nSubject: Re: hi\r\n\r\nThanks\r\n"
    tree = built(raw)
    assert tree is not None and shape(tree) == shape(message_from_raw(raw))
    assert parse(raw).headers["dkim-signature"].endswith("h=to:subject:message-id:date:from :dkim-signature; b=Mn1Bv2Cx3Za4")
    spaced = dkim + b"Subject : Re: hi\r\n\r\nThanks\r\n"
    assert built(spaced) is None and parse(spaced).subject == "Re: hi"


def test_most_bounces_need_no_second_parse() -> None:
    bounces = [p for p in MESSAGES if "bounce" in str(p)]
    assert sum(built(p.read_bytes()) is not None for p in bounces) >= len(bounces) * 0.8


@pytest.mark.parametrize("raw", [
    # a part between two delimiter lines, which the library does not open
    b'Content-Type: multipart/mixed; boundary=":foo"\n\n--:foo\n--:foo\nContent-Type: text/plain\n\n'
    b"a\n--:foo--\n",
    # a nested boundary that the outer one's close delimiter also matches
    b'Content-Type: multipart/mixed; boundary="a--"\n\n--a--\nContent-Type: multipart/mixed; '
    b'boundary="a----"\n\n--a----\nContent-Type: text/plain\n\nbody\n--a------\n--a----\n',
    # delimiter lines with text after the boundary
    b'Content-Type: multipart/mixed; boundary="b"\n\n--b junk\nContent-Type: text/plain\n\nx\n--b--\n',
    # a header written "Name :"
    b"Subject : hello\nContent-Type: text/plain\n\nbody\n",
    # a digest, whose parts are messages by default
    b'Content-Type: multipart/digest; boundary="d"\n\n--d\n\nSubject: one\n\nx\n--d--\n',
    # lines without the blank line that the library still reads as headers
    b"Subject: a\nFrom here on\n\nbody\n",
    b"Subject: a\n:odd\n\nbody\n",
    b" folded first\nSubject: a\n\nbody\n",
    # 8-bit bytes in a global delivery status (RFC 6533)
    b'Content-Type: multipart/report; boundary="b"\n\n--b\nContent-Type: message/global-delivery-status\n\n'
    b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; j\xc3\xb6rg@b\xc3\xbccher.example\n"
    b"Action: failed\n--b--\n",
])
def test_mail_the_library_reads_otherwise_is_parsed_again(raw: bytes) -> None:
    assert built(raw) is None
    assert shape(library_message(parse(raw))) == shape(message_from_raw(raw))


def test_the_tree_is_not_pickled() -> None:
    pm = parse((ROOT / "tests" / "fixtures" / "bounces").glob("*.eml").__next__().read_bytes())
    library_message(pm)
    copy = pickle.loads(pickle.dumps(pm))
    assert copy.library_tree is None and copy == pm
    assert shape(library_message(copy)) == shape(message_from_raw(pm.raw))


@pytest.mark.parametrize("raw", [
    b"Subject: a\nnot a header\nbody\n",
    b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\nno blank line\n'
    b"--b\nContent-Type: message/delivery-status\n\nAction: failed\n\nFinal-Recipient: rfc822; a@b.c\n"
    b"Action: failed\n\n--b--\n",
])
def test_a_body_begun_without_its_blank_line_needs_no_second_parse(raw: bytes) -> None:
    tree = built(raw)
    assert tree is not None and shape(tree) == shape(message_from_raw(raw))
