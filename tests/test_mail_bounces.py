"""Bounces from many mail systems name their failed recipient, a reason and hard/soft; abuse
reports are complaints; people's replies are neither.

tests/fixtures/bounces holds one notice per mail-system family, written for these tests from
each system's documented or commonly seen format, with the expected answer in labels.tsv.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.mail import classify, parse
from app.mail.bounce_reason import REASONS, reason_for

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"


def _labels(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", fieldnames=None if name == "labels.tsv" else
                                   ["file", "family", "recipient", "reason", "hard"]))


def _classify(name: str, **kwargs):
    return classify(parse((FIXTURES / name).read_bytes()), **kwargs)


FAMILIES = _labels("labels.tsv")


def test_at_least_25_families():
    assert len({row["family"] for row in FAMILIES}) >= 25


@pytest.mark.parametrize("row", FAMILIES, ids=[r["family"] for r in FAMILIES])
def test_family_names_recipient_reason_and_finality(row):
    result = _classify(row["file"])
    assert result.kind == "bounce", result.reasons
    got = [(r.address, r.reason, "hard" if r.hard else "soft") for r in result.bounce_recipients]
    assert got == [(row["recipient"], row["reason"], row["hard"])]
    assert row["reason"] in REASONS


def test_recipients_exact_on_every_fixture():
    exact = sum(
        [r.address for r in _classify(row["file"]).bounce_recipients] == [row["recipient"]]
        for row in FAMILIES)
    print(f"\nown bounce fixtures: {len(FAMILIES)} files, "
          f"{len({r['family'] for r in FAMILIES})} families, recipients exact on {exact}/{len(FAMILIES)}")
    assert exact == len(FAMILIES)


def test_only_trace_is_the_returned_messages_to():
    result = _classify("returned_to_only.eml")
    assert [r.address for r in result.bounce_recipients] == ["lina.haddad@cedar-works.example"]
    assert "To/Cc of the returned message" in result.reasons


def test_the_address_the_mailbox_sent_to_wins_a_tie():
    without = _classify("two_returned_recipients.eml")
    assert {r.address for r in without.bounce_recipients} == {
        "alex.moreau@partner.example", "assistant@partner.example"}
    sent = {"assistant@partner.example"}
    result = _classify("two_returned_recipients.eml", sent_to=sent.__contains__)
    assert [r.address for r in result.bounce_recipients] == ["assistant@partner.example"]


def test_sending_mailbox_and_system_addresses_are_never_the_recipient():
    for row in FAMILIES:
        for rcpt in _classify(row["file"]).bounce_recipients:
            assert rcpt.address != "sdr@sender.io"
            assert not rcpt.address.lower().startswith(("postmaster@", "mailer-daemon@"))


@pytest.mark.parametrize("name,recipient", [
    ("arf_complaint.eml", "zoe.clarke@meadow.example"),
    ("arf_returned_to.eml", "ruben.ortega@plaza.example"),
])
def test_abuse_report_is_a_complaint(name, recipient):
    result = _classify(name)
    assert (result.kind, result.category) == ("complaint", "complaint")
    assert [(r.address, r.reason, r.hard) for r in result.bounce_recipients] == [(recipient, "complaint", True)]


@pytest.mark.parametrize("name", ["human_delivery_words.eml", "human_forwarded_headers.eml"])
def test_people_writing_about_delivery_are_not_bounces(name):
    result = _classify(name)
    assert result.kind == "reply", result.reasons
    assert result.bounce_recipients == []


def _notice(*, auto_submitted: bool, nested_status: bool) -> bytes:
    """A notice from an ordinary address (no mail-system sender, no bounce subject, not a
    multipart/report): bounce wording in its text, and, as asked, an Auto-Submitted header and a
    delivery-status part inside a multipart/mixed."""
    head = ("From: Helpdesk <help@relay.example>\r\nTo: sam@ours.example\r\nSubject: About your message\r\n"
            "Message-ID: <n1@relay.example>\r\nMIME-Version: 1.0\r\n"
            + ("Auto-Submitted: auto-replied\r\n" if auto_submitted else ""))
    text = ("This message was created automatically by mail delivery software.\r\n\r\n"
            "A message that you sent could not be delivered to one or more of its\r\n"
            "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
            "  pat@prospect.example\r\n    host mx.prospect.example [192.0.2.1]\r\n"
            "    550 5.1.1 user unknown\r\n")
    if not nested_status:
        return (head + "Content-Type: text/plain\r\n\r\n" + text).encode()
    return (head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            + text + "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n"
            "Final-Recipient: rfc822; pat@prospect.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n").encode()


@pytest.mark.parametrize(("auto_submitted", "nested_status", "kind"), [
    (False, True, "bounce"),  # the delivery-status part makes it the mail system's
    (True, False, "bounce"),  # Auto-Submitted, and the wording names the failure
    (False, False, "not a bounce"),  # the wording alone, from an ordinary address
])
def test_bounce_wording_counts_where_the_message_is_the_mail_systems(auto_submitted, nested_status, kind):
    result = classify(parse(_notice(auto_submitted=auto_submitted, nested_status=nested_status)))
    if kind == "bounce":
        assert result.kind == "bounce", result.reasons
        assert [r.address for r in result.bounce_recipients] == ["pat@prospect.example"]
    else:
        assert result.kind != "bounce" and result.bounce_recipients == [], result.reasons


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared email corpus not found at {CORPUS}")
def test_shared_corpus_human_replies_are_neither_bounce_nor_complaint():
    folder = CORPUS / "talon-standard-replies" / "eml"
    files = sorted(folder.glob("*.eml"))
    assert files
    for path in files:
        assert classify(parse(path.read_bytes())).kind not in ("bounce", "complaint"), path.name


@pytest.mark.parametrize("status,text,reason", [
    ("5.1.1", "User unknown", "user_unknown"),
    ("5.7.1", "Message rejected as spam", "spam_detected"),
    ("5.7.1", "SPF check failed", "auth_failure"),
    ("5.7.26", "", "auth_failure"),
    ("4.2.2", "", "mailbox_full"),
    ("5.0.0", "Postfach ist voll", "mailbox_full"),
    (None, "Utilisateur inconnu", "user_unknown"),
    (None, "宛先不明", "user_unknown"),
    (None, "Пользователь не найден", "user_unknown"),
    ("4.4.7", "", "expired"),
    ("5.1.2", "", "host_unknown"),
    ("5.3.4", "", "message_too_big"),
    ("4.7.0", "too many connections, slow down", "rate_limited"),
    ("5.1.6", "", "has_moved"),
    ("5.1.3", "", "syntax_error"),
    (None, "account has been disabled", "suspended"),
    (None, "the sky is blue", "other"),
])
def test_reason_taxonomy(status, text, reason):
    assert reason_for(status, text) == reason
