"""Reading server responses as aioimaplib hands them over, and folder roles from LIST."""

from __future__ import annotations

from app.config import PRESETS
from app.imap.folders import assign_roles
from app.imap.responses import (
    ListEntry,
    expand_uid_set,
    parse_copyuid,
    parse_fetch,
    parse_list,
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
