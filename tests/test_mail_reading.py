"""Reading a reply the way a person does: litotes, contrast, negated refusals, referrals, the
asymmetric cost of a refusal, and return dates without a year. Plus the held-out set of
tests/fixtures/intent_heldout, written blind (see its BRIEF.md)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from app.mail import classify, parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from score_intent import load_replies, score  # noqa: E402


def _reply(text: str, *, cc: str = "", date_header: str = "Tue, 15 Dec 2026 10:00:00 +0100",
           headers: str = "") -> bytes:
    cc_line = f"Cc: {cc}\n" if cc else ""
    return (f"From: Prospect <p@prospect.example>\nTo: Bob <bob@sender.io>\n{cc_line}"
            f"Subject: Re: Quick question\nDate: {date_header}\nMessage-ID: <r@prospect.example>\n"
            f"In-Reply-To: <cold@sender.io>\n{headers}Content-Type: text/plain; charset=utf-8\n\n"
            f"{text}\n\n> Hi, would you be interested in a quick call? Reply stop to opt out.\n").encode()


def test_held_out_set_never_reads_interest_as_a_refusal():
    figures = score(load_replies())
    print(f"\nheld-out: {figures['right']:.1%} right, {figures['misfiled']:.1%} misfiled, "
          f"{figures['uncategorized']:.1%} uncategorized, {figures['positive_as_negative']} positive "
          f"read as negative, return dates {figures['dates_right']}/{figures['dates_total']}")
    assert figures["replies"] >= 80 and figures["languages"] >= 6
    assert figures["positive_as_negative"] == 0, figures["misses"]
    assert figures["misfiled"] <= 0.05
    assert figures["right"] >= 0.85
    assert figures["dates_right"] >= figures["dates_total"] - 2


@pytest.mark.parametrize("text, expected", [
    ("I wouldn't say no to a quick call on Thursday.", "meeting"),
    ("Not uninteresting. What does it cost?", "interested"),
    ("Das ist nicht uninteressant, schicken Sie mir Unterlagen.", "interested"),
    ("Ce n'est pas inintéressant, envoyez-moi une brochure.", "interested"),
    ("Niet oninteressant, stuur maar wat informatie.", "interested"),
    ("Einem Gespräch wäre ich nicht abgeneigt.", "meeting"),
    ("Nicht uninteressant, aber wir haben keinen Bedarf.", "not_interested"),
])
def test_litotes_is_a_yes_in_every_language(text, expected):
    result = classify(parse(_reply(text)))
    assert result.category == expected, result.reasons


@pytest.mark.parametrize("text, expected", [
    ("Not for us this quarter, but send me the deck for Q3.", "interested"),
    ("Sounds interesting, but we have no need for it.", "not_interested"),
    ("Klingt gut, aber leider kein Interesse.", "not_interested"),
    ("Pas pour le moment, mais envoyez-moi une présentation.", "interested"),
    ("I almost hit unsubscribe, but this sounds relevant. Pricing?", "interested"),
])
def test_the_clause_after_but_decides(text, expected):
    result = classify(parse(_reply(text)))
    assert result.category == expected, result.reasons
    assert any("before" in r for r in result.reasons), result.reasons


@pytest.mark.parametrize("text", [
    "No need to remove me - I'm curious how the sync works.",
    "I don't want to unsubscribe, just tell me more about the pricing.",
])
def test_a_negated_refusal_is_no_refusal(text):
    assert classify(parse(_reply(text))).category == "interested"


def test_interest_and_a_refusal_side_by_side_are_left_for_the_user():
    result = classify(parse(_reply("Sounds interesting; we have no budget.")))
    assert result.category == "uncategorized"
    assert "never filed over interest" in result.reasons[0]
    # still a request when the positive word is courtesy inside it
    assert classify(parse(_reply("Yes please remove me."))).category == "unsubscribe"


@pytest.mark.parametrize("text, cc, referral", [
    ("I'm not the right person, reach out to dana@prospect.example.", "", "dana@prospect.example"),
    ("Adding Tom in cc, he runs procurement.", "Tom Reyes <treyes@prospect.example>", "treyes@prospect.example"),
    ("Ik zet Pieter in de cc, hij gaat over inkoop.", "Pieter Jansen <pj@prospect.example>", "pj@prospect.example"),
    ("Je ne m'occupe plus de ce sujet, c'est Claire qui a repris : claire@prospect.example", "", "claire@prospect.example"),
])
def test_a_referral_is_an_address_or_a_named_cc_with_a_cue(text, cc, referral):
    result = classify(parse(_reply(text, cc=cc)))
    assert result.category == "wrong_person", result.reasons
    assert result.referral == referral


def test_a_cc_without_a_referral_cue_is_not_a_referral():
    result = classify(parse(_reply("Sounds good, Tom and I are free Tuesday at 10am.",
                                   cc="Tom Reyes <treyes@prospect.example>")))
    assert result.category == "meeting", result.reasons


@pytest.mark.parametrize("text, sent, until", [
    ("I am out of the office until 04/01.", "Tue, 22 Dec 2026 09:00:00 +0000", date(2027, 1, 4)),
    ("Out of office, back Mon 1/4.", "Tue, 29 Dec 2026 09:00:00 +0000", date(2027, 1, 4)),
    ("I'm out of the office until 1/4.", "Tue, 29 Dec 2026 09:00:00 -0500", date(2027, 1, 4)),
    ("Ich bin bis 06.01. im Urlaub, ab dem 07.01. wieder im Büro.", "Wed, 23 Dec 2026 09:00:00 +0100", date(2027, 1, 7)),
    ("Our office is closed until Jan 2, back on Jan 5.", "Mon, 28 Dec 2026 09:00:00 -0500", date(2027, 1, 5)),
    ("Estoy de vacaciones hasta el 11 de enero.", "Mon, 21 Dec 2026 09:00:00 +0100", date(2027, 1, 11)),
])
def test_return_dates_without_a_year(text, sent, until):
    raw = (f"From: P <p@prospect.example>\nTo: bob@sender.io\nSubject: Out of office\nDate: {sent}\n"
           f"Message-ID: <o@prospect.example>\nAuto-Submitted: auto-replied\n\n{text}\n").encode()
    result = classify(parse(raw))
    assert result.category == "out_of_office"
    assert result.ooo_until == until, result.reasons


def test_a_colleague_brought_in_beside_interest_is_no_referral():
    result = classify(parse(_reply("Sounds good, let's talk Tuesday. Adding Tom (tom@prospect.example), "
                                   "he will join.")))
    assert result.category == "meeting", result.reasons
    assert any("beside interest" in r for r in result.reasons)
