"""parse, sanitize and thread keys, on short messages written for these tests."""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.mail import classify, normalize_subject, parse, sanitize, thread_key
from app.mail.quotes import split_reply
from app.mail.thread import added_subject

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def _fixture(name: str):
    return parse((FIXTURES / name).read_bytes())


def test_headers_decoded_and_degrading():
    m = _fixture("malformed.eml")
    assert m.subject == "Réponse xé"  # unknown charset "bogus-charset" falls back, no error
    assert m.from_.name == "Renée Müller" and m.from_.email == "renee@prospect.example"
    assert m.to[0].name == "Sales, Bob" and m.to[0].email == "bob@sender.io"
    assert m.date is None  # garbled Date
    assert "CloseBoundaryNotFoundDefect" in m.defects
    assert m.structure == "multipart/mixed(multipart/alternative(text/html),application/pdf,text/plain)"


def test_html_body_converted_without_images_or_escapes():
    m = _fixture("malformed.eml")
    assert m.text.startswith("Café ok")  # unknown charset: UTF-8 bytes still read as UTF-8
    assert "tracker.example" not in m.text and "\x1b" not in m.text and "52;c" not in m.text


def test_attachments_named_and_sized():
    m = _fixture("malformed.eml")
    names = {a.filename: a for a in m.attachments}
    assert names["deck.pdf"].content_type == "application/pdf" and names["deck.pdf"].size > 0
    assert "notes été.txt" in names  # RFC 2231 encoded filename


def test_dsn_fixture_structure_and_body():
    m = _fixture("dsn_hard.eml")
    assert m.structure == "multipart/report(text/plain,message/delivery-status,message/rfc822(text/plain))"
    assert "could not" in m.text
    assert any(a.content_type == "message/rfc822" and a.filename.startswith("Quick question")
               for a in m.attachments)
    assert m.date is not None and m.date.utcoffset() == timedelta(0)


def test_broken_boundaries_recovered():
    # The boundary folded onto the next line without ";", then an inner boundary that is a
    # prefix of the outer one: both parts are still found.
    raw = (b"Subject: x\nContent-Type: multipart/mixed\n\tboundary=\"ab\"\n\n--ab\n"
           b"Content-Type: multipart/alternative; boundary=\"a\"\n\n--a\nContent-Type: text/plain\n\n"
           b"hello\n--ab\nContent-Type: text/html\n\n<p>hi</p>\n--a--\n--ab--\n")
    m = parse(raw)
    assert m.structure == "multipart/mixed(multipart/alternative(text/plain,text/html))"
    assert m.text == "hello"


def test_obsolete_space_before_colon_in_header():
    m = parse(b"Subject : spaced\nContent-Type : text/html\n\n<b>bold</b>")
    assert m.subject == "spaced" and m.text == "bold"


def test_timezone_aware_dates():
    raw = b"Date: Mon, 2 Mar 2026 10:00:00 -0000\nSubject: x\n\nbody"
    assert parse(raw).date.tzinfo is not None
    raw = b"Date: Mon, 2 Mar 2026 10:00:00 +0530\n\nbody"
    assert parse(raw).date.utcoffset() == timedelta(hours=5, minutes=30)


def test_dates_of_one_offset_share_their_zone():
    """A worker's answers are pickled together: a zone the dates share is written once."""
    first = parse(b"Date: Mon, 2 Mar 2026 10:00:00 -0800\n\nbody").date
    second = parse(b"Date: Tue, 3 Mar 2026 11:30:00 -0800\n\nbody").date
    other = parse(b"Date: Tue, 3 Mar 2026 11:30:00 +0100\n\nbody").date
    assert first.tzinfo is second.tzinfo and first.tzinfo is not other.tzinfo
    assert second.utcoffset() == timedelta(hours=-8) and other.utcoffset() == timedelta(hours=1)
    assert len(pickle.dumps([first, second])) < 2 * len(pickle.dumps(first)) - 20


def test_eight_bit_headers_and_mbox_line():
    raw = "From someone Mon Mar  2 10:00:00 2026\nSubject: Grüße aus Köln\n\nHallo".encode("latin-1")
    m = parse(raw)
    assert m.subject == "Grüße aus Köln"
    assert m.text == "Hallo"


def test_rfc2047_split_multibyte_and_folding():
    raw = b"Subject: =?UTF-8?B?5pel5pys?=\r\n =?UTF-8?B?6Kqe?= ok\r\n\r\nx"
    assert parse(raw).subject == "日本語 ok"


def test_sanitize_strips_terminal_attacks():
    text = "ok\x1b[31mred\x1b[0m\x1b]8;;http://evil\x07link\x1b]8;;\x07\r\nline\u202egnp.exe\x00\x9b2J"
    assert sanitize(text) == "okredlink\nlinegnp.exe"


def test_headers_are_sanitized():
    raw = b"Subject: hi \x1b]0;owned\x07there\nFrom: \x1b[2J <a@b.c>\n\nbody\x1b[2J"
    m = parse(raw)
    assert m.subject == "hi there" and m.text == "body"
    assert all("\x1b" not in v for v in m.headers.values())


def test_quote_styles_split():
    cases = {
        "Yes please.\n\nOn Tue, 3 Mar 2026 at 10:00, Bob <b@x.io> wrote:\n> Hi": "Yes please.",
        "Gerne.\n\nAm 03.03.2026 um 10:00 schrieb Bob <b@x.io>:\n> Hallo": "Gerne.",
        "Oui.\n\nLe mar. 3 mars 2026 à 10:00, Bob <b@x.io> a écrit :\n> Salut": "Oui.",
        "Sí.\n\nEl mar, 3 mar 2026 a las 10:00, Bob (<b@x.io>) escribió:\n> Hola": "Sí.",
        "Ok.\n\n________________________________\nFrom: Bob <b@x.io>\nSent: Tuesday\nTo: Jane": "Ok.",
        "Prima.\n\nVan: Bob <b@x.io>\nVerzonden: dinsdag 3 maart 2026\nAan: Jan": "Prima.",
        "Tak.\n\nW dniu 3.03.2026 o 10:00, Bob <b@x.io> pisze:\n> Cześć": "Tak.",
        "Sure.\n\n-----Original Message-----\nFrom: Bob": "Sure.",
        "Certo.\n\nIl giorno lun 2 mar 2026 alle ore 09:00 Bob <b@x.io> ha scritto:\n> Ciao": "Certo.",
        "Ja.\n\nOp ma 2 mrt 2026 om 09:00 schreef Bob <b@x.io>:\n> Hoi": "Ja.",
        "Sim.\n\nEm seg., 2 de mar. de 2026 às 09:00, Bob <b@x.io> escreveu:\n> Olá": "Sim.",
        "Vale.\n\nDe: Bob <b@x.io>\nEnviado el: lunes, 2 de marzo de 2026 9:00\nPara: Ana": "Vale.",
        "Jasne.\n\nOd: Bob <b@x.io>\nWysłane: poniedziałek\nDo: Ewa": "Jasne.",
        "Hi\n\nOn Mon, Mar 2, 2026 at 9:00 AM Bob Sender <\nbob@sender.io> wrote:\n> x": "Hi",
        "Ok\n\nOn Mon, Mar 2, 2026 at 9:00 AM Bob\n\n<\nmailto:b@x.io\n> wrote:\nHi": "Ok",
        "Ok\n\n---- Bob Sender wrote ----\n\nHi": "Ok",
        "Ok\n2026/3/2 Bob Sender <b@x.io>\n\n> Hi": "Ok",
        "Ok\n\nDate: Mon, 2 Mar 2026 09:00:00 +0000\nTo: jane@acme.example\n\nHi": "Ok",
        "Ok\n\nSent from my phone, Bob <b@x.io> wrote:\n> Hi": "Ok",
        "On peut se parler jeudi ?\n\nOn Mon, 2 Mar 2026, Bob <b@x.io> wrote:\n> Hi": "On peut se parler jeudi ?",
        "Ok\n\n* * *\n\nFrom: Bob\nHi": "Ok",  # an <hr> before the quoted mail, as htmltext writes it
        "Ok\n\nMon, 2 Mar 2026 09:00 +0100 from Bob <b@x.io>:\n\nHi": "Ok",
        "> Hi, interested?\n\nYes, very.": "Yes, very.",
    }
    for text, new in cases.items():
        assert split_reply(text)[0] == new, text


def test_thread_keys():
    assert normalize_subject("RE: AW: Fwd: [EXT] Re:  Quick   Question") == "quick question"
    assert thread_key("<b@x>", "<a@x>", ["<root@x>", "<a@x>"], "Re: q", "p@x") == "<root@x>"
    assert thread_key("<b@x>", "<a@x>", [], "Re: q", "p@x") == "<a@x>"
    assert thread_key("<b@x>", None, [], "Hello", "p@x") == "<b@x>"
    assert added_subject("Automatic reply: Quick question") == "Automatic reply"
    assert added_subject("[Ticket #4] Re: Quick question") == "[Ticket #4]"
    assert added_subject("Re: Out of office software") == ""
    key = thread_key("<b@x>", None, [], "Re: Hello", "P@X")
    assert key == thread_key(None, None, [], "AW: hello", "p@x")


def test_parse_gives_thread_key_from_references():
    raw = b"Message-ID: <r@p>\nIn-Reply-To: <c2@s>\nReferences: <c1@s> <c2@s>\nSubject: Re: x\n\nok"
    m = parse(raw)
    assert m.references == ["<c1@s>", "<c2@s>"] and m.in_reply_to == "<c2@s>"
    assert m.thread_key == "<c1@s>"


def test_dsn_fixture_classified_with_hard_and_soft():
    result = classify(_fixture("dsn_hard.eml"))
    assert result.kind == "bounce" and result.category == "bounce"
    by_address = {r.address: r for r in result.bounce_recipients}
    assert by_address["ghost@prospect.example"].status == "5.1.1"
    assert by_address["ghost@prospect.example"].hard
    assert by_address["busy@prospect.example"].status == "4.2.2"
    assert not by_address["busy@prospect.example"].hard
    assert by_address["busy@prospect.example"].diagnostic == "452 4.2.2 Mailbox full"
    assert result.reasons


def test_global_delivery_status_and_x_failed_recipients():
    raw = (b"From: MAILER-DAEMON@mx.example\nSubject: Delivery Status Notification (Failure)\n"
           b"Content-Type: multipart/report; report-type=global-delivery-status; boundary=b\n\n"
           b"--b\nContent-Type: text/plain\n\nFailed.\n--b\n"
           b"Content-Type: message/global-delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
           b"Final-Recipient: rfc822; j\xc3\xb6rg@b\xc3\xbccher.example\nAction: failed\n"
           b"Status: 5.1.1\n\nFinal-Recipient: rfc822; ok@x.example\nAction: delivered\nStatus: 2.0.0\n--b--\n")
    result = classify(parse(raw))
    assert result.kind == "bounce"
    assert [(r.status, r.hard) for r in result.bounce_recipients] == [("5.1.1", True)]
    raw = (b"From: Mail Delivery System <mailer-daemon@mx.example>\nSubject: Mail delivery failed\n"
           b"X-Failed-Recipients: gone@x.example\n\nThis message was created automatically.\n"
           b"  gone@x.example\n    SMTP error from remote mail server after RCPT TO:<gone@x.example>:\n"
           b"    550 5.1.1 No such user\n")
    result = classify(parse(raw))
    assert [(r.address, r.status, r.hard) for r in result.bounce_recipients] == [
        ("gone@x.example", "5.1.1", True)]


def test_exchange_ndr_fixture():
    result = classify(_fixture("exchange_ndr.eml"))
    assert result.kind == "bounce"
    assert [(r.address, r.status, r.hard) for r in result.bounce_recipients] == [
        ("nobody@contoso.com", "5.1.10", True)]
    assert "Microsoft NDR header" in result.reasons


def test_german_out_of_office_fixture():
    result = classify(_fixture("ooo_de.eml"))
    assert (result.kind, result.category) == ("autoreply", "out_of_office")
    assert result.ooo_until == date(2026, 3, 16)
    assert result.referral == "m.weber@firma.example.de"
    assert any("Auto-Submitted" in r for r in result.reasons)


def test_ticket_receipt_is_an_auto_reply_not_out_of_office():
    result = classify(_fixture("ticket.eml"))
    assert (result.kind, result.category) == ("autoreply", "auto_reply")


def test_out_of_office_phrase_above_a_quote_is_a_human():
    raw = (b"From: p@x.example\nSubject: Re: Quick question\nIn-Reply-To: <c@s>\n\n"
           b"I'm out of office until Monday, but yes, interested - let's set up a call.\n\n"
           b"On Mon, 2 Mar 2026, Bob <b@s.io> wrote:\n> Hi\n")
    result = classify(parse(raw))
    assert result.kind == "reply" and result.category == "meeting"


def test_microsoft_oof_headers_alone_mean_out_of_office():
    raw = (b"From: p@x.example\nSubject: Re: Quick question\nX-Auto-Response-Suppress: All\n"
           b"X-MS-Exchange-Inbox-Rules-Loop: p@x.example\n\nThank you for your note.\n")
    result = classify(parse(raw))
    assert (result.kind, result.category) == ("autoreply", "out_of_office")
    assert "Microsoft out-of-office headers" in result.reasons


def test_challenge_response_is_an_auto_reply():
    raw = (b"From: filter@boxbe.example\nSubject: Please confirm your message\n\n"
           b"To have your message delivered, please click the link below to verify you are human.\n")
    result = classify(parse(raw))
    assert (result.kind, result.category) == ("autoreply", "auto_reply")


def test_person_quoting_bounce_wording_is_not_a_bounce():
    raw = (b"From: Jane <jane@acme.example>\nSubject: Re: Quick question\nIn-Reply-To: <c@s>\n\n"
           b"My colleague said your email could not be delivered to <tom@acme.example>: "
           b"user unknown. Sounds interesting though, send me the pricing.\n")
    result = classify(parse(raw))
    assert result.kind == "reply" and result.category == "interested"


def test_html_only_replies_split_and_classified():
    gmail = (b"From: Jane <jane@acme.example>\nSubject: Re: Quick question\n"
             b"Content-Type: text/html; charset=utf-8\n\n"
             b"<div>Yes, let&#39;s talk Tuesday.<br><a href=\"https://cal.example/j\">Book</a></div>"
             b"<div class=\"gmail_quote\">On Mon, Mar 2, 2026 at 9:00 AM Bob &lt;<a href=\"mailto:b@s.io\">"
             b"b@s.io</a>&gt; wrote:<br><blockquote>Interested? Reply unsubscribe to opt out.</blockquote></div>")
    m = parse(gmail)
    assert m.new_text == "Yes, let's talk Tuesday.\n[Book](https://cal.example/j)"
    assert m.quoted_text.startswith("On Mon, Mar 2, 2026 at 9:00 AM Bob <b@s.io> wrote:")
    assert classify(m).category == "meeting"
    outlook = (b"From: Jane <jane@acme.example>\nSubject: RE: Quick question\n"
               b"Content-Type: text/html; charset=utf-8\n\n"
               b"<p>Please remove me from your list.</p><div><p><b>From:</b> Bob &lt;b@s.io&gt;<br>"
               b"<b>Sent:</b> Monday, March 2, 2026 9:00 AM<br><b>To:</b> Jane</p></div>"
               b"<p>Interested in a call?</p>")
    m = parse(outlook)
    assert m.new_text == "Please remove me from your list."
    assert classify(m).category == "unsubscribe"


def test_our_own_subject_does_not_make_an_auto_reply():
    raw = (b"From: Jane <jane@acme.example>\nSubject: Re: Absence management on holiday season\n"
           b"In-Reply-To: <c@s>\n\nNot interested, thanks.\n")
    result = classify(parse(raw))
    assert (result.kind, result.category) == ("reply", "not_interested")


def test_bounce_words_in_our_subject_and_quote_are_not_a_bounce():
    raw = (b"From: Jane <jane@acme.example>\nSubject: Re: Fewer delivery failures for Acme\n"
           b"In-Reply-To: <c@s>\n\nWho are your customers?\n\nOn Mon, Bob <b@s.io> wrote:\n"
           b"> Parcels that could not be delivered cost you money.\n")
    assert classify(parse(raw)).kind == "reply"


def test_return_date_from_the_subject():
    raw = (b"From: p@x.example\nSubject: Out of office until 16 March\nAuto-Submitted: auto-replied\n"
           b"Date: Tue, 3 Mar 2026 10:00:00 +0100\n\nThanks for your message.\n")
    result = classify(parse(raw))
    assert result.category == "out_of_office" and result.ooo_until == date(2026, 3, 16)


@pytest.mark.parametrize("header", [
    b"=?utf-8?q?Ann_=1B=5D0;pwned=07_Smith?= <ann@example.com>",  # OSC title, ';' inside the word
    b"=?utf-8?q?Ann_=1B]0;pwned=07Smith?= <ann@example.com>",
    b"=?utf-8?q?Ann_=C2=9D0;pwned=C2=9C_Smith?= <ann@example.com>",  # 8-bit OSC introducer
    b"Ann \x1b]8;;http://pwned\x1b\\ Smith <ann@example.com>",  # raw OSC 8 hyperlink: ':' inside
])
def test_the_payload_of_a_stripped_escape_stays_out_of_the_senders_name(header):
    message = parse(b"From: " + header + b"\r\nTo: me@example.org\r\nSubject: hi\r\n\r\nhello\r\n")
    assert message.from_ is not None
    assert message.from_.email == "ann@example.com"
    assert "pwned" not in message.from_.name
    assert message.from_.name.split() == ["Ann", "Smith"]


def test_an_encoded_name_with_a_comma_stays_one_address():
    message = parse(b"From: =?utf-8?q?Smith=2C_Ann?= <ann@example.com>\r\nSubject: hi\r\n\r\nhello\r\n")
    assert message.from_ is not None and message.from_.name == "Smith, Ann"
