"""build_reply, checked by parsing its bytes back with the standard library."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email import policy

from app.mail import Address, build_reply, parse
from app.mail.compose import reply_subject

ORIGINAL = (b"From: Jane Prospect <jane@acme.example>\nReply-To: Jane Desk <desk@acme.example>\n"
            b"To: Bob <bob@sender.io>\nSubject: RE: AW: Re: Quick question\n"
            b"Message-ID: <orig@acme.example>\nReferences: <first@sender.io> <second@sender.io>\n"
            b"Date: Mon, 2 Mar 2026 10:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
            b"Sounds interesting. What does it cost?\n\nOn Sun, Bob wrote:\n> Hi Jane\n")
NOW = datetime(2026, 3, 3, 9, 30, tzinfo=timezone.utc)
LONG_URL = "https://example.com/" + "a" * 90


def _reply(original=ORIGINAL, body="Hi Jane,\n\nIt is 10 EUR per seat. " * 4 + LONG_URL):
    return build_reply(parse(original), from_addr=Address("Bob Sender", "bob@sender.io"),
                       body=body, signature="Bob\nSender Inc", domain="sender.io", now=NOW)


def test_headers():
    message_id, raw = _reply()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Bob Sender <bob@sender.io>"
    assert msg["To"] == "Jane Desk <desk@acme.example>"  # Reply-To wins over From
    assert msg["Subject"] == "Re: Quick question"
    assert msg["In-Reply-To"] == "<orig@acme.example>"
    assert msg["References"].split() == ["<first@sender.io>", "<second@sender.io>",
                                         "<orig@acme.example>"]
    assert msg["Message-ID"] == message_id and message_id.endswith("@sender.io>")
    assert msg["Date"].datetime == NOW
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_param("format") == "flowed"


def test_to_falls_back_to_from_and_ids_are_fresh():
    original = ORIGINAL.replace(b"Reply-To: Jane Desk <desk@acme.example>\n", b"")
    first, raw = _reply(original)
    second, _ = _reply(original)
    assert first != second
    assert email.message_from_bytes(raw, policy=policy.default)["To"] == \
        "Jane Prospect <jane@acme.example>"


def test_body_signature_quote_and_wrapping():
    _, raw = _reply()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # SMTP line endings
    text = email.message_from_bytes(raw, policy=policy.default).get_content()
    lines = text.replace("\r\n", "\n").split("\n")
    assert "-- " in lines and lines[lines.index("-- ") + 1] == "Bob"
    assert "On Mon, 02 Mar 2026 at 10:00, Jane Prospect wrote:" in lines
    assert "> Sounds interesting. What does it cost?" in lines
    assert ">> Hi Jane" in lines  # already-quoted lines nest without a space
    assert LONG_URL in lines  # a URL is never broken
    assert all(len(line) <= 77 for line in lines if LONG_URL not in line)
    assert any(line.endswith(" ") and line != "-- " for line in lines)  # flowed soft breaks


def test_reply_subject_never_stacks():
    assert reply_subject("Quick question") == "Re: Quick question"
    assert reply_subject("Re: Re: RE: Quick question") == "Re: Quick question"
    assert reply_subject("AW: WG: Angebot") == "Re: Angebot"
    assert reply_subject("Fwd: Re: intro") == "Re: intro"
    assert reply_subject("") == "Re:"


def test_non_ascii_display_names_and_text():
    original = ORIGINAL.replace(b"Jane Desk", "Renée Müller".encode()).replace(
        b"Content-Type: text/plain; charset=utf-8", b"Content-Type: text/plain; charset=utf-8")
    _, raw = build_reply(parse(original), from_addr=Address("Zoë Ærø", "z@sender.io"),
                         body="Grüße — ça va?", domain="sender.io", now=NOW)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Zoë Ærø <z@sender.io>"
    assert "Müller" in msg["To"]
    assert msg.get_content().startswith("Grüße — ça va?")
    assert raw.isascii()  # headers encoded, body quoted-printable: safe on any SMTP server


def test_reply_from_a_stored_row():
    from app.mail.compose import reply_recipients, stored_original
    row = {"message_id": "<orig@acme.example>", "in_reply_to": None, "refs": '["<first@sender.io>"]',
           "subject": "Re: Quick question", "from_addr": "jane@acme.example", "from_name": "Jane",
           "to_addrs": ["bob@sender.io"], "reply_to": "[]", "sent_at": NOW.timestamp(),
           "body_text": "Yes, interested.", "new_text": "Yes, interested."}
    original = stored_original(row)
    assert [a.email for a in reply_recipients(original)] == ["jane@acme.example"]
    _, raw = build_reply(original, from_addr=Address("Bob", "bob@sender.io"), body="Great!",
                         domain="sender.io", now=NOW)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["To"] == "Jane <jane@acme.example>"
    assert msg["References"].split() == ["<first@sender.io>", "<orig@acme.example>"]
    assert "> Yes, interested." in msg.get_content()


def test_reply_text_edited_then_sent_keeps_signature_and_quote():
    from app.mail.compose import reply_text
    original = parse(ORIGINAL)
    editable = reply_text(original, "", "Bob")
    assert editable.startswith("\n\n-- \nBob\n\nOn Mon, 02 Mar 2026 at 10:00, Jane Prospect wrote:\n")
    edited = "Thanks Jane, happy to." + editable
    # The editor already holds the signature and the quote: the original's text is not added again.
    from dataclasses import replace
    _, raw = build_reply(replace(original, text=""), from_addr=Address("Bob", "bob@sender.io"),
                         body=edited, domain="sender.io", now=NOW)
    text = email.message_from_bytes(raw, policy=policy.default).get_content().replace("\r\n", "\n")
    assert text.count("> Sounds interesting.") == 1
    assert "\n-- \nBob\n" in text and text.startswith("Thanks Jane, happy to.")


def test_saved_reply_placeholders():
    from app.mail.templates import fill_template, template_values
    from app.mail.types import Address
    from app.placeholders import template_problems

    def values(name: str, email: str, referral: str | None = None) -> dict[str, str]:
        raw = (f"From: {name} <{email}>\nTo: ana@sender.example\nSubject: RE: Re: Quick question\n"
               "Message-ID: <m@x>\n\nhello\n").encode()
        return template_values(parse(raw), Address("Ana Lima", "ana@sender.example"), referral)

    text = "Hi {first_name|there} from {company|your team}, re {subject}. {my_first_name} <{my_email}> {{ok}}"
    assert fill_template(text, values('"Doe, Jane"', "jane@acme.co.uk")) == \
        "Hi Jane from Acme, re Quick question. Ana <ana@sender.example> {ok}"
    assert fill_template(text, values("", "JOHN@gmail.com")).startswith("Hi there from your team,")
    assert fill_template("Hi {first_name}", values("MARIA GARCIA", "m@garcia-sa.es")) == "Hi Maria"
    assert fill_template("Ask {referral|them}", values("Bo", "bo@x.io", "kim@x.io")) == "Ask kim@x.io"
    # a name with escapes or markup reaches the reply as plain, safe text
    import dataclasses
    odd = dataclasses.replace(parse(b"Subject: hi\n\nhello\n"), from_=Address("eve\x1b[31m [b]x[/b]", "e@y.io"))
    assert fill_template("Hi {name}", template_values(odd, Address("", "a@s.example"))) == "Hi Eve [b]x[/b]"
    assert template_problems("Hi {firstname} {first_name} {{literal}}") == [
        "unknown placeholder {firstname} (known: first_name, name, email, company, subject, referral, "
        "my_name, my_first_name, my_email)"]
