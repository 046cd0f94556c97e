"""Attachments on bytes: a calendar invitation's event, each attachment's own bytes (what a save
writes), and the file name a save may use."""

from __future__ import annotations

import os
from email.message import EmailMessage

from app.mail import parse
from app.mail.invite import read_invite
from app.mail.parse import attachment_payloads
from app.mail.sanitize import safe_filename

# as Outlook sends it: CRLF, a folded SUMMARY, an escaped comma, a zone Python does not know by
# this name, the organiser's name quoted with a colon in it, and an alarm inside the event
OUTLOOK_ICS = (
    b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
    b"BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    b"END:STANDARD\r\nEND:VTIMEZONE\r\n"
    b"BEGIN:VEVENT\r\nORGANIZER;CN=\"Diaz: Carol\":mailto:carol@prospect.io\r\n"
    b"SUMMARY;LANGUAGE=en-US:Acme \\, Prospect: demo of the\r\n  reporting module\r\n"
    b"DTSTART;TZID=W. Europe Standard Time:20261203T150000\r\n"
    b"DTEND;TZID=W. Europe Standard Time:20261203T153000\r\nLOCATION:Teams\r\n"
    b"BEGIN:VALARM\r\nSUMMARY:reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n")

GOOGLE_ICS = (
    b"BEGIN:VCALENDAR\nMETHOD:CANCEL\nBEGIN:VEVENT\nDTSTART:20261208T170000Z\n"
    b"ORGANIZER;CN=erin@globex.com:mailto:erin@globex.com\nSUMMARY:Intro call \x1b[31mnow\nEND:VEVENT\n"
    b"END:VCALENDAR\n")


def test_an_outlook_invitation_gives_its_title_time_and_organiser() -> None:
    invite = read_invite(OUTLOOK_ICS)
    assert invite is not None
    assert invite.title == "Acme , Prospect: demo of the reporting module"  # unfolded, escapes undone
    assert (invite.start, invite.tz, invite.all_day) == ("2026-12-03T15:00:00", "W. Europe Standard Time", False)
    assert invite.organizer == "Diaz: Carol <carol@prospect.io>"
    assert (invite.location, invite.method) == ("Teams", "REQUEST")


def test_a_utc_time_a_whole_day_a_known_zone_and_no_event() -> None:
    invite = read_invite(GOOGLE_ICS)
    assert invite is not None
    assert invite.start == "2026-12-08T17:00:00+00:00" and invite.method == "CANCEL"
    assert invite.organizer == "erin@globex.com"  # the name is the address: said once
    assert "\x1b" not in invite.title and invite.title.startswith("Intro call")
    day = read_invite(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nSUMMARY:Off\nEND:VEVENT\n")
    assert day is not None and (day.start, day.all_day) == ("2026-12-24", True)
    berlin = read_invite(b"BEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20260701T090000\nEND:VEVENT\n")
    assert berlin is not None and berlin.start == "2026-07-01T09:00:00+02:00" and berlin.title == ""
    assert read_invite(b"BEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n") is None
    assert read_invite(b"\xff\xfe garbage : : ;;;") is None
    evil = read_invite(b"BEGIN:VEVENT\nDTSTART;TZID=../../../etc/passwd:20260701T090000\nEND:VEVENT\n")
    assert evil is not None and evil.start == "2026-07-01T09:00:00"  # no zone read from a path


def test_a_meeting_reply_carries_its_invitation_in_the_parsed_attachments() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "carol@prospect.io", "ana@acme.io", "Invitation: demo"
    msg.set_content("Booked the demo, see the invitation.")
    msg.add_alternative(OUTLOOK_ICS, maintype="text", subtype="calendar", params={"method": "REQUEST"})
    [attachment] = parse(msg.as_bytes()).attachments
    assert attachment.content_type == "text/calendar" and attachment.invite is not None
    assert attachment.invite.title == "Acme , Prospect: demo of the reporting module"


def test_each_attachment_comes_back_with_its_own_bytes() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "carol@prospect.io", "ana@acme.io", "Re: files"
    msg.set_content("Two files and the mail I got.")
    pdf = b"%PDF-1.4\n" + os.urandom(5000)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="report.pdf")
    msg.add_attachment("plain words\n", subtype="csv", filename="leads.csv")
    inner = EmailMessage()
    inner["Subject"] = "the original"
    inner.set_content("forwarded words")
    msg.add_attachment(inner)
    raw = msg.as_bytes()
    got = attachment_payloads(raw)
    assert [a.filename for a, _ in got] == [a.filename for a in parse(raw).attachments]
    assert [a.filename for a, _ in got] == ["report.pdf", "leads.csv", "the original.eml"]
    assert got[0][1] == pdf and got[1][1] == b"plain words\n"
    assert parse(got[2][1]).subject == "the original"  # the attached message, whole
    assert attachment_payloads(b"\x00\xff not a message") == []


def test_a_file_name_cannot_leave_the_folder_or_carry_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "_._etc_passwd"
    assert safe_filename("..") == "attachment" and safe_filename("") == "attachment"
    assert safe_filename(".bashrc") == "bashrc"  # no hidden file
    assert safe_filename("C:\\Windows\\evil.dll") == "C__Windows_evil.dll"
    assert safe_filename("invoice\x1b[31m\u202egnp.exe") == "invoicegnp.exe"
    assert safe_filename("résumé 2026.docx") == "résumé 2026.docx"
    long = safe_filename("a" * 400 + ".pdf")
    assert long.endswith(".pdf") and len(long.encode()) <= 200
