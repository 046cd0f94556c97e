"""An HTML body as a reader sees it (app/mail/htmltext.py): paragraphs and breaks, quoted mail
marked per level, links, lists and rules; images, styles, scripts and comments left out; and a
body Lexbor would be slow on read by the linear reader instead."""

from __future__ import annotations

import re

import pytest

from app.mail import classify, parse
from app.mail.htmltext import LEXBOR_TAGS, html2text_text, html_text, lexbor_text


def _html_message(html: str, subject: str = "Re: Quick question") -> bytes:
    return (f"From: Jane <jane@acme.example>\nTo: Bob <bob@sender.io>\nSubject: {subject}\n"
            f"Date: Mon, 07 Dec 2026 10:00:00 +0100\nMessage-ID: <h@acme.example>\n"
            f"Content-Type: text/html; charset=utf-8\n\n{html}").encode()


def test_paragraphs_breaks_and_white_space_read_as_a_browser_shows_them():
    html = ("<html><head><title>Re: hi</title><style>p {margin: 0}</style></head><body>"
            "<p>Hi   Bob,\n  thanks&nbsp;for <b>the</b>\n<i>note</i>.</p>"
            "<p>Line one<br>Line two<br><br>After a blank line</p>"
            "<div>&nbsp;&nbsp;To:&nbsp;&nbsp;&nbsp;Anna</div><div>Caf&eacute; &amp; co &lt;ok&gt;</div>"
            "</body></html>")
    assert html_text(html) == ("Hi Bob, thanks for the note.\n\nLine one\nLine two\n\nAfter a blank line\n\n"
                               "  To:   Anna\nCafé & co <ok>")


def test_quoted_mail_is_marked_per_level():
    html = ("<div>Sounds good.</div><blockquote><div>Would Tuesday work?</div><p>Second paragraph</p>"
            "<blockquote>Interested in a call?</blockquote></blockquote><div>Jane</div>")
    assert html_text(html) == ("Sounds good.\n\n> Would Tuesday work?\n>\n> Second paragraph\n>\n"
                               ">> Interested in a call?\n\nJane")


def test_quoted_mail_without_an_attribution_line_is_still_not_the_reply():
    html = ("<div>Please take me off your list.</div>"
            "<blockquote><p>Hi Jane, would you be interested in a quick call next week?</p></blockquote>")
    message = parse(_html_message(html))
    assert message.new_text == "Please take me off your list."
    assert "interested in a quick call" in message.quoted_text
    assert classify(message).category == "unsubscribe"


def test_links_images_and_what_no_reader_sees():
    html = ('<p>Book a slot: <a href="https://cal.example/jane">my calendar</a>, or write to '
            '<a href="mailto:jane@acme.example">jane@acme.example</a>; see '
            '<a href="https://acme.example">https://acme.example</a>.</p>'
            '<a href="https://acme.example/logo"><img src="https://acme.example/logo.png" alt="Acme"></a>'
            '<img src="https://tracker.example/open.gif" width="1" height="1">'
            '<script>document.write("tracked")</script><!-- a comment --><noscript>enable scripts</noscript>'
            '<a href="#top">Top</a>')
    assert html_text(html) == ("Book a slot: [my calendar](https://cal.example/jane), or write to "
                               "jane@acme.example; see https://acme.example.\n\nTop")


def test_lists_rules_tables_and_preformatted_text():
    html = ("<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol><hr>"
            "<table><tr><td>Plan</td><td>Price</td></tr><tr><td>Team</td><td>$49</td></tr></table>"
            "<pre>  keep\n    this</pre>")
    assert html_text(html) == ("  * one\n  * two\n\n  1. first\n  2. second\n\n* * *\n\nPlan Price\nTeam $49\n\n"
                               "  keep\n    this")


@pytest.mark.parametrize("html", [
    # Gmail
    '<div dir="ltr">Yes, Tuesday at 10 works.<div><br></div><div>Jane</div></div><br><div class="gmail_quote">'
    '<div dir="ltr" class="gmail_attr">On Mon, Dec 7, 2026 at 9:00 AM Bob &lt;<a href="mailto:b@s.io">b@s.io</a>'
    '&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
    '<div dir="ltr">Hi Jane,<div>would a short call next week work?</div></div></blockquote></div>',
    # Outlook
    '<div class=WordSection1><p class=MsoNormal><span style="font-size:11.0pt">Not interested, thanks.'
    '<o:p></o:p></span></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div style="border:none;border-top:'
    'solid #E1E1E1 1.0pt"><p class=MsoNormal><b>From:</b> Bob &lt;b@s.io&gt;<br><b>Sent:</b> Monday, '
    'December 7, 2026 9:00 AM<br><b>To:</b> Jane<br><b>Subject:</b> Quick question<o:p></o:p></p></div>'
    '<p class=MsoNormal>Hi Jane, would a short call work?<o:p></o:p></p></div>',
    # Apple Mail
    '<html><body style="word-wrap: break-word;">Send me the deck, please.<br><div><br><blockquote type="cite">'
    '<div>On 7 Dec 2026, at 09:00, Bob &lt;b@s.io&gt; wrote:</div><br><div><div>Hi Jane,</div><div>shall '
    'I send more?</div></div></blockquote></div><br></body></html>',
])
def test_common_replies_read_line_for_line_as_the_previous_reader_gave_them(html):
    def lines(text: str) -> list[tuple[int, list[str]]]:
        """Each line that holds words: its quote level, and its words (html2text's Markdown
        escapes taken out). Blank lines, quoted or not, are left out: the readers set those
        apart differently."""
        text = re.sub(r"\\(?=[-.*_#+!`>])", "", text)
        read = [(len(line) - len(line.lstrip(">")), line.lstrip(">").split()) for line in text.split("\n")]
        return [(level, words) for level, words in read if words]

    assert lines(html_text(html)) == lines(html2text_text(html))


def test_a_body_of_more_tags_than_lexbor_is_given_is_read_by_the_linear_reader():
    deep = "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    assert lexbor_text(deep) is None
    assert html_text(deep).strip() == "deep text"


def test_a_tree_lexbor_would_blow_up_is_read_by_the_linear_reader():
    # left-open formatting elements with distinct attributes are rebuilt in every block: the tree
    # grows with the square of the tags, within the tag limit
    hostile = "".join(f"<div><b id={i}></div>" for i in range(LEXBOR_TAGS // 3)) + "end"
    assert hostile.count("<") <= LEXBOR_TAGS
    assert lexbor_text(hostile) is None
    assert html_text(hostile).strip() == "end"
    # nesting as deep as the tag limit allows is read by Lexbor, without recursion
    nested = "<blockquote>" * (LEXBOR_TAGS - 1) + "innermost"
    assert lexbor_text(nested) == ">" * (LEXBOR_TAGS - 1) + " innermost"


@pytest.mark.parametrize("plain, html_first, expected", [
    ("Plain words.", False, "Plain words."),
    ("Plain words.", True, "Plain words."),  # the plain part is read wherever it stands
    ("  \n", False, "Words of the HTML part."),  # a plain part with no text: the HTML is read
])
def test_the_html_part_is_read_only_where_the_plain_part_says_nothing(plain, html_first, expected):
    html_part = ("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                 "<p>Words of the HTML=\n part.</p>\n")
    plain_part = f"Content-Type: text/plain; charset=utf-8\n\n{plain}\n"
    parts = [html_part, plain_part] if html_first else [plain_part, html_part]
    raw = ("From: Jane <jane@acme.example>\nSubject: Re: Quick question\nContent-Type: multipart/alternative; "
           "boundary=b\n\n" + "".join(f"--b\n{part}" for part in parts) + "--b--\n").encode()
    message = parse(raw)
    assert message.text.strip() == expected
    assert message.structure == "multipart/alternative(" + ",".join(
        ["text/html", "text/plain"] if html_first else ["text/plain", "text/html"]) + ")"
