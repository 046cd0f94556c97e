"""Reading server responses as aioimaplib hands them over, and folder roles from LIST."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone

import aioimaplib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import PRESETS, parse_config
from app.folders import Namespace, assign_roles, namespace_of, under_namespace
from app.imap.connection import ImapConnection
from app.imap.ops import OpsRunner
from app.imap.protocol import FetchCommand
from app.imap.responses import (
    ListEntry,
    SelectInfo,
    expand_uid_set,
    parse_copyuid,
    parse_fetch,
    parse_internaldate,
    parse_list,
    parse_namespace,
    parse_search,
    parse_select,
    parse_status,
    quote,
    uid_set,
)


def test_fetch_with_literal_items_after_it_and_an_unsolicited_flag_update() -> None:
    lines = [
        b'1 FETCH (UID 7 FLAGS (\\Seen $Label) INTERNALDATE "25-Nov-2026 13:09:19 +0000" RFC822.SIZE 12 '
        b'BODY[]<0> {12}',
        bytearray(b"Subject: x\r\n"),
        b" MODSEQ (42))",
        b"2 FETCH (FLAGS (\\Flagged))",
        b"3 FETCH (UID 9 FLAGS ())",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    first, second = parse_fetch(lines)
    assert (first.uid, first.flags, first.size, first.modseq) == (7, frozenset({"\\Seen", "$Label"}), 12, 42)
    assert first.body == b"Subject: x\r\n" and first.internaldate == 1795612159.0
    assert (second.uid, second.flags, second.body) == (9, frozenset(), None)


def test_select_status_search() -> None:
    info = parse_select([b"FLAGS (\\Answered \\Seen)", b"OK [PERMANENTFLAGS (\\Seen \\*)] Flags permitted.",
                         b"5 EXISTS", b"0 RECENT", b"OK [UIDVALIDITY 1700000000] UIDs valid",
                         b"OK [UIDNEXT 12] Predicted next UID", b"OK [HIGHESTMODSEQ 33] Highest",
                         b"[READ-WRITE] Select completed."])
    assert (info.uidvalidity, info.uidnext, info.exists, info.highestmodseq) == (1700000000, 12, 5, 33)
    assert "\\*" in info.permanentflags
    assert parse_status([b'"Junk Email" (UIDNEXT 4 UIDVALIDITY 9 MESSAGES 3)', b"Status completed."]) == \
        {"UIDNEXT": 4, "UIDVALIDITY": 9, "MESSAGES": 3}
    assert parse_search([b"3 4 9", b"Search completed (0.001 + 0.000 secs)."]) == [3, 4, 9]
    assert parse_search([b"Search completed (0.001 secs)."]) == []


def test_list_names_quoted_and_literal() -> None:
    entries = parse_list([b'(\\HasNoChildren \\Sent) "/" "Sent Items"', b'(\\HasNoChildren) "/" {7}',
                          bytearray(b"Caf\xc3\xa9 x"), b'(\\Noselect) "/" "[Gmail]"', b"List completed."])
    assert [(e.name, "\\sent" in e.attributes) for e in entries] == \
        [("Sent Items", True), ("Café x", False), ("[Gmail]", False)]


def test_uid_sets_and_copyuid() -> None:
    assert uid_set([5, 1, 2, 3, 9, 10]) == "1:3,5,9:10"
    assert expand_uid_set("1:3,7") == [1, 2, 3, 7]
    assert parse_copyuid([b"OK [COPYUID 99 4:5 20:21] Moved UIDs."]) == (99, {4: 20, 5: 21})
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'


def entries(*names_attrs: tuple[str, str]) -> list[ListEntry]:
    return [ListEntry(n, frozenset(a.split()), "/") for n, a in names_attrs]


def test_roles_from_special_use_then_preset_names() -> None:
    preset = {"inbox": "INBOX", "sent": "Sent Items", "junk": "Junk Email", "trash": "Deleted Items",
              "archive": "Archive"}
    special = assign_roles(entries(("INBOX", ""), ("Envoyés", "\\sent"), ("Sent Items", ""), ("Pourriel", "\\junk")),
                           preset)
    assert (special["sent"], special["junk"]) == ("Envoyés", "Pourriel")
    plain = assign_roles(entries(("INBOX", ""), ("Sent Items", ""), ("Junk Email", ""), ("Archive", "")), preset)
    assert (plain["sent"], plain["junk"], plain["archive"]) == ("Sent Items", "Junk Email", "Archive")
    g = PRESETS["google"]
    gmail = assign_roles(entries(("INBOX", ""), ("[Gmail]", "\\noselect"), ("[Gmail]/Sent Mail", ""),
                                 ("[Gmail]/Spam", ""), ("[Gmail]/All Mail", "\\all")),
                         {"inbox": "INBOX", "sent": g.sent, "junk": g.junk, "archive": g.archive or ""})
    assert (gmail["sent"], gmail["junk"], gmail["archive"]) == ("[Gmail]/Sent Mail", "[Gmail]/Spam",
                                                                 "[Gmail]/All Mail")


# -- replies as servers send them, read through ImapConnection (aioimaplib and our fixes) ---------

DOVECOT_SELECT = [  # Dovecot 2.3.19's reply to SELECT INBOX, recorded from tests/servers/dovecot.py
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
    b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
    b"* 3 EXISTS",
    b"* 0 RECENT",
    b"* OK [UIDVALIDITY 1796387528] UIDs valid",
    b"* OK [UIDNEXT 4] Predicted next UID",
]
ACCOUNT = parse_config({"accounts": [{"email": "rep@example.com", "imap": {"host": "127.0.0.1"},
                                      "smtp": {"host": "127.0.0.1"}}]}).accounts[0]


class Replay:
    """The server end of a socket pair, answering each command with recorded lines: the wire
    format reaches the same aioimaplib parsing, with our fixes, as a real server's would."""

    def __init__(self, replies: dict[str, list[bytes]]) -> None:
        self.replies = {"CAPABILITY": [b"* CAPABILITY IMAP4rev1 IDLE NAMESPACE"], **replies}
        self.commands: list[str] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            tag, command = line.split()[:2]
            self.commands.append(line.decode().strip())
            for reply in self.replies.get(command.decode().upper(), []):
                writer.write(reply + b"\r\n")
            writer.write(tag + b" OK done\r\n")


async def select_over_socket(replay: Replay) -> SelectInfo:
    here, there = socket.socketpair()
    conn = ImapConnection(ACCOUNT)
    await asyncio.get_running_loop().create_connection(lambda: conn.proto, sock=here)
    reader, writer = await asyncio.open_connection(sock=there)
    server = asyncio.ensure_future(replay.serve(reader, writer))
    try:
        await asyncio.wait_for(conn.proto.greeted.wait(), 30)
        conn.proto.state = aioimaplib.AUTH
        return await asyncio.wait_for(conn.select("INBOX"), 30)
    finally:
        conn.abort()
        server.cancel()
        writer.close()


def with_permanentflags(flags: str | None) -> list[bytes]:
    lines = [line for line in DOVECOT_SELECT if b"PERMANENTFLAGS" not in line]
    if flags is not None:
        lines.insert(1, f"* OK [PERMANENTFLAGS ({flags})] Flags permitted.".encode())
    return lines


@pytest.mark.parametrize(("flags", "keywords"), [
    ("\\* \\Draft \\Answered \\Flagged \\Deleted \\Seen", True),  # \* first, as the servers send it
    ("\\Answered \\Flagged \\* \\Deleted \\Seen", True),
    ("\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*", True),  # Dovecot
    ("\\*", True),
    ("\\Answered \\Deleted \\Draft \\Flagged \\Seen", False),  # pymap: no keywords
    ("", False),
    (None, True),  # no PERMANENTFLAGS at all: every flag may be stored (RFC 3501)
])
async def test_permanentflags_in_every_order(flags, keywords) -> None:
    info = await select_over_socket(Replay({"SELECT": with_permanentflags(flags)}))
    assert ("\\*" in info.permanentflags) is keywords
    assert OpsRunner._allowed(["\\Seen", "replydesk-interested"], info.permanentflags) == \
        (["\\Seen", "replydesk-interested"] if keywords else ["\\Seen"])
    if flags:
        assert info.permanentflags == frozenset(flags.split())
    assert (info.uidvalidity, info.uidnext, info.exists) == (1796387528, 4, 3)


async def test_select_without_uidnext_asks_status_once() -> None:
    without = [line for line in DOVECOT_SELECT if b"UIDNEXT" not in line]
    replay = Replay({"SELECT": without, "STATUS": [b'* STATUS INBOX (UIDNEXT 4)']})
    info = await select_over_socket(replay)
    assert info.uidnext == 4
    assert [c.split()[1] for c in replay.commands] == ["CAPABILITY", "SELECT", "STATUS"]
    # a server that has no UIDNEXT anywhere: the highest UID there, plus one
    replay = Replay({"SELECT": without, "STATUS": [], "UID": [b"* 3 FETCH (UID 17)"]})
    assert (await select_over_socket(replay)).uidnext == 18
    # with UIDNEXT in the reply, no extra command
    replay = Replay({"SELECT": DOVECOT_SELECT})
    await select_over_socket(replay)
    assert [c.split()[1] for c in replay.commands] == ["CAPABILITY", "SELECT"]


def test_namespace_and_names_replydesk_creates() -> None:
    assert parse_namespace([b'NAMESPACE (("INBOX." ".")) NIL NIL', b"Namespace completed."]) == \
        Namespace("INBOX.", ".")
    assert parse_namespace([b'(("" "/")) NIL NIL', b"done"]) == Namespace("", "/")
    assert under_namespace("Archive", Namespace("INBOX.", ".")) == "INBOX.Archive"
    assert under_namespace("INBOX.Archive", Namespace("INBOX.", ".")) == "INBOX.Archive"
    assert under_namespace("Clients/Acme", Namespace("INBOX.", ".")) == "INBOX.Clients.Acme"
    assert under_namespace("Archive", Namespace("", "/")) == "Archive"


def test_roles_below_an_inbox_prefix_by_common_names() -> None:
    """A Courier-style server: no special-use, every folder below INBOX. (the doctor and the
    engine both find Sent there: they share this finder)."""
    found = [ListEntry(n, frozenset(), ".") for n in ("INBOX", "INBOX.Sent", "INBOX.Spam", "INBOX.Trash")]
    preset = {"inbox": "INBOX", "sent": "Sent", "junk": "Junk", "trash": "Trash", "archive": "Archive"}
    assert namespace_of(found) == Namespace("INBOX.", ".")
    roles = assign_roles(found, preset)
    assert roles == {"inbox": "INBOX", "sent": "INBOX.Sent", "junk": "INBOX.Spam", "trash": "INBOX.Trash"}


async def test_fetch_knows_an_item_is_open_exactly_when_aioimaplib_does():
    """The count kept line by line answers as aioimaplib's rescan of every line does."""
    lines: list = [
        b"1 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE \"01-Dec-2026 10:00:00 +0000\" BODY[] {12}",
        bytearray(b"(((unclosed("), b")",
        b"2 FETCH (UID 8 FLAGS ($label1 (odd) BODY[] {3}", bytearray(b")))"), b")",
        b"3 FETCH (UID 9 FLAGS ()", b"MODSEQ (12))",
        b"4 FETCH (UID 10 BODY[] {2}", bytearray(b"()"), b" FLAGS (\\Answered))",
        b"FLAGS (extra", b"text)",
    ]
    ours = FetchCommand("A1", "1:*", "(UID FLAGS)", prefix="UID")
    theirs = aioimaplib.FetchCommand("A1", "1:*", "(UID FLAGS)", prefix="UID")
    answers = []
    for line in lines:
        ours.append_to_resp(line)
        theirs.append_to_resp(line)
        assert ours.wait_data() == theirs.wait_data(), line
        answers.append(ours.wait_data())
    assert True in answers and False in answers


def test_status_lines_name_their_folder_quoted_or_not() -> None:
    from app.imap.responses import parse_statuses, status_mailbox
    lines = [b'LIST () "." Sent', b"STATUS Sent (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 7)",
             b'STATUS "Junk \\"E-mail\\"" (MESSAGES 2 UIDNEXT 9 HIGHESTMODSEQ 12)', b"List completed"]
    assert parse_statuses(lines) == {"Sent": {"MESSAGES": 0, "UIDNEXT": 1, "UIDVALIDITY": 7},
                                     'Junk "E-mail"': {"MESSAGES": 2, "UIDNEXT": 9, "HIGHESTMODSEQ": 12}}
    assert status_mailbox(b"STATUS {5} (MESSAGES 1)") is None  # a literal: the caller looks at every folder


def test_a_status_answer_is_read_for_its_own_folder() -> None:
    """With NOTIFY on, the server may put another folder's STATUS among the answer's lines."""
    from app.imap.responses import parse_status
    lines = [b"Junk (MESSAGES 4 UIDNEXT 12)", b'"Sent" (MESSAGES 1 UIDNEXT 3)', b"Status completed"]
    assert parse_status(lines, "Sent") == {"MESSAGES": 1, "UIDNEXT": 3}
    assert parse_status(lines) == {"MESSAGES": 4, "UIDNEXT": 12}


_DAY = st.integers(0, 40).map(str) | st.integers(1, 9).map(lambda d: f"0{d}")
_DATE_VALUE = st.one_of(
    st.builds(lambda d, mon, y, h, mi, s, sign, oh, om, pad: f"{pad}{d}-{mon}-{y} {h:02d}:{mi:02d}:{s:02d} {sign}{oh:02d}{om:02d}",
              _DAY, st.sampled_from(["Jan", "feb", "MAR", "Dec", "Foo", "Sept", "jun"]), st.integers(1, 9999),
              st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), st.sampled_from("+-"),
              st.integers(0, 25), st.integers(0, 99), st.sampled_from(["", " "])),
    st.text(alphabet="0123456789-: +JanDec", max_size=30),
)


@settings(max_examples=2000, deadline=None)
@given(_DATE_VALUE)
def test_internaldate_read_as_strptime_reads_it(value):
    """The quick reading of INTERNALDATE gives the time strptime gives, and nothing where it
    gives nothing: a message's arrival time never differs for the speed-up."""
    try:
        expected: float | None = datetime.strptime(value.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()
    except ValueError:
        expected = None
    assert parse_internaldate(value) == expected


# -- a FETCH answer however the reads cut it ---------------------------------------------------

def _fetch_answer(bodies: list[bytes]) -> bytes:
    """A UID FETCH answer as Dovecot writes it, each body a literal, then the tagged OK."""
    out = b""
    for i, body in enumerate(bodies, 1):
        out += (b'* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "05-Dec-2026 10:44:30 +0000" RFC822.SIZE %d '
                b"BODY[] {%d}\r\n" % (i, 100 + i, len(body), len(body))) + body
        out += b" MODSEQ (%d))\r\n" % i if i % 2 else b")\r\n"  # an item after the literal, or none
    out += b"* 3 FETCH (FLAGS (\\Flagged))\r\n"  # another client's change, no UID: not ours
    return out + b"A1 OK Fetch completed.\r\n"


# bodies whose lines look like the answer's own: a literal's announcement, a tagged OK, a lone ")"
_BODIES = [b"Subject: a\r\n\r\nsee {12}\r\n", b"", b"A1 OK not the end\r\n)\r\n* 9 FETCH (UID 1)\r\n",
           b"x" * 3000 + b"\r\n", b"no line end"]


async def _read_in_pieces(data: bytes, cuts: list[int]) -> tuple[list[bytes], list[tuple]]:
    """``data`` fed to the connection's protocol in reads cut at ``cuts``: the FETCH's lines as
    the command holds them, and the messages ``parse_fetch`` reads from them."""
    conn = ImapConnection(ACCOUNT)
    proto = conn.proto
    proto.state = aioimaplib.SELECTED
    command = FetchCommand("A1", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)", prefix="UID",
                           loop=asyncio.get_running_loop())
    proto.pending_async_commands["FETCH"] = command
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        proto.data_received(data[start:cut])
        start = cut
    await asyncio.wait_for(command.wait(), 5)
    assert command.response.result == "OK"
    lines = command.response.lines
    return [bytes(line) for line in lines], [(f.uid, f.flags, f.internaldate, f.size, f.modseq, f.body)
                                             for f in parse_fetch(lines)]


async def test_a_fetch_answer_reads_the_same_whatever_the_reads_cut() -> None:
    """A first sync's answer arrives in reads of whatever size the network gives: each message
    is stored whole and with its own flags, date and size however the reads fall."""
    data = _fetch_answer(_BODIES)
    whole = await _read_in_pieces(data, [])
    lines, items = whole
    # each line as the server sent it, each body whole, nothing of one in another
    assert lines == [part for i, body in enumerate(_BODIES, 1) for part in (
        b'%d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "05-Dec-2026 10:44:30 +0000" RFC822.SIZE %d BODY[] {%d}'
        % (i, 100 + i, len(body), len(body)), body, b" MODSEQ (%d))" % i if i % 2 else b")")] + [
        b"3 FETCH (FLAGS (\\Flagged))", b"Fetch completed."]
    when = datetime(2026, 12, 5, 10, 44, 30, tzinfo=timezone.utc).timestamp()
    assert items == [(100 + i, frozenset({"\\Seen"}), when, len(body), i if i % 2 else None, body)
                     for i, body in enumerate(_BODIES, 1)]
    assert await _read_in_pieces(data, list(range(1, len(data)))) == whole  # a byte a read
    for cut in range(1, len(data)):  # every place one cut can fall: mid-line, mid-CRLF, mid-literal
        assert await _read_in_pieces(data, [cut]) == whole, cut


async def _fetched(data: bytes):
    """``data`` through the connection's protocol in one read, read by ``parse_fetch``."""
    conn = ImapConnection(ACCOUNT)
    conn.proto.state = aioimaplib.SELECTED
    command = FetchCommand("A1", "1:*", "(UID BODY.PEEK[])", prefix="UID", loop=asyncio.get_running_loop())
    conn.proto.pending_async_commands["FETCH"] = command
    conn.proto.data_received(data)
    await asyncio.wait_for(command.wait(), 5)
    return parse_fetch(command.response.lines)


async def test_a_line_the_server_wrote_inside_a_message_marks_that_message_garbled() -> None:
    """Dovecot 2.3 writes its NOTIFY news where its output stands, also inside a literal it is
    still sending: the literal's count then takes in the news and leaves the message's last
    bytes after it. Wherever the news falls, that message reads as garbled and the next one,
    whole, does not; answers with items after the literal (MODSEQ, FLAGS) read as whole."""
    body = b"Subject: the deck\r\n\r\nHere it is (the price list too).\r\n\r\nPat\r\n"
    clean = _fetch_answer([body, body])
    assert [f.garbled for f in await _fetched(clean)] == [False, False]
    for news in (b"* STATUS Junk (MESSAGES 1 UIDNEXT 2)\r\n", b"* 3 EXISTS\r\n"):
        for at in range(len(body) + 1):
            wire = body[:at] + news + body[at:]
            data = (b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(body)) + wire + b")\r\n"
            data += (b"* 2 FETCH (UID 8 BODY[] {%d}\r\n" % len(body)) + body + b" FLAGS (\\Seen))\r\n"
            first, second = await _fetched(data + b"A1 OK Fetch completed.\r\n")
            assert (first.uid, first.garbled, second.uid, second.garbled, second.body) == (7, True, 8, False, body), \
                (news, at)


async def test_a_read_of_many_thousand_lines_is_read_without_running_out_of_stack() -> None:
    """A flag resync of a big folder: one read holds a line per message."""
    lines = b"".join(b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (i, i) for i in range(1, 50_001))
    _, items = await _read_in_pieces(lines + b"A1 OK done\r\n", [])
    assert [uid for uid, *_ in items] == list(range(1, 50_001))
