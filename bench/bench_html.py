"""An HTML body to text (app/mail/htmltext.py): Lexbor and the writer, beside html2text (the
previous reader, and still the reader of the largest bodies) on the same bodies in the same run.

The bodies are written here, shaped as mail clients write them: a short Gmail reply, an Apple
Mail reply, an Outlook reply above its thread (~21 KB), a newsletter laid out in tables, one too
large for Lexbor (read by html2text either way), and the nesting Lexbor is slowest on within
``LEXBOR_TAGS`` (its tree grows with the square of the tags; the writer hands it to html2text).

    python bench/bench_html.py [--rounds N] [--compiled]

The reader is the checkout's Python; with ``--compiled``, the wheel's (setup.py: compiled by mypyc).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.compiled import compiled_first, parse_args_compiled  # noqa: E402

READER = compiled_first()

from app.mail.htmltext import LEXBOR_TAGS, html2text_text, html_text, lexbor_text  # noqa: E402


def gmail() -> str:
    return ('<div dir="ltr">Thanks for reaching out. Could you send me the pricing for a team of 12? '
            'We might be interested next quarter.<div><br></div><div>Best,</div><div>Anna</div></div><br>'
            '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Dec 7, 2026 at 10:00 AM Bob '
            '&lt;<a href="mailto:bob@sender.io">bob@sender.io</a>&gt; wrote:<br></div><blockquote '
            'class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
            'padding-left:1ex"><div dir="ltr">Hi Anna,<div><br></div><div>I noticed your team is growing fast. '
            'We help sales teams book more meetings with less effort.</div><div>Would you be open to a quick '
            'call next week?</div><div><br></div><div>Cheers,</div><div>Bob</div></div></blockquote></div>')


def apple() -> str:
    return ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
            '<body style="word-wrap: break-word; -webkit-nbsp-mode: space;">Not for us, thanks.<br><br>'
            '<div><blockquote type="cite"><div>On 7 Dec 2026, at 10:00, Bob &lt;bob@sender.io&gt; wrote:</div>'
            '<br class="Apple-interchange-newline"><div><div>Hi Anna,</div><div><br></div><div>Would you be '
            'open to a quick call next week?</div></div></blockquote></div><br></body></html>')


def outlook(paragraphs: int = 80) -> str:
    row = ('<p class=MsoNormal><span style="font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif;'
           'color:#1F497D">Some text of the thread goes here, with a <a href="https://example.com/x?y=1">link'
           '</a> and more words.<o:p></o:p></span></p>\n')
    head = ('<html xmlns:v="urn:schemas-microsoft-com:vml"><head><meta charset=utf-8><style><!-- '
            + "p.MsoNormal, li.MsoNormal {margin:0cm; font-size:11.0pt;} " * 40
            + ' --></style><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml>'
            '<![endif]--></head><body lang=EN-US link="#0563C1"><div class=WordSection1>')
    sent = ('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class=MsoNormal>'
            '<b>From:</b> Bob &lt;bob@sender.io&gt;<br><b>Sent:</b> Monday, December 7, 2026 10:00<br><b>To:'
            '</b> Anna<br><b>Subject:</b> Quick question</p></div>')
    return head + row * (paragraphs * 3 // 4) + sent + row * (paragraphs // 4) + "</div></body></html>"


def newsletter(items: int) -> str:
    item = ('<tr><td class="item" style="padding:12px"><table role="presentation" width="100%"><tr>'
            '<td><img src="https://news.example/i.png" width="80" alt=""></td><td><h3 style="margin:0">'
            'A headline of the week</h3><p style="margin:4px 0">Two lines of summary about the story, '
            'as newsletters write them.</p><a href="https://news.example/story">Read more</a></td></tr>'
            '</table></td></tr>')
    return ('<html><body><table role="presentation" width="600" align="center">' + item * items
            + '<tr><td><a href="https://news.example/unsubscribe">Unsubscribe</a></td></tr></table></body></html>')


def hostile() -> str:
    return "".join(f"<div><b id={i}></div>" for i in range(LEXBOR_TAGS // 3)) + "end"


def best_of(fn: Callable[[str], str], body: str, rounds: int) -> float:
    """The least CPU time of one call over ``rounds`` rounds of ~50 ms each."""
    started = time.process_time()
    fn(body)
    n = max(1, int(0.05 / max(time.process_time() - started, 1e-6)))
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            fn(body)
        best = min(best, (time.process_time() - started) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parse_args_compiled(parser)
    print(f"the reader: {READER}")
    bodies = {"Gmail reply": gmail(), "Apple Mail reply": apple(), "Outlook reply and thread": outlook(),
              "newsletter, 40 stories": newsletter(40), "newsletter, 120 stories": newsletter(120),
              "the slowest nesting": hostile()}
    print(f"{'body':26s} {'KB':>6s} {'tags':>6s} {'reader':>9s} {'htmltext':>10s} {'html2text':>10s} {'ratio':>7s}")
    for name, body in bodies.items():
        reader = "Lexbor" if lexbor_text(body) is not None else "html2text"
        ours, theirs = best_of(html_text, body, args.rounds), best_of(html2text_text, body, args.rounds)
        print(f"{name:26s} {len(body) / 1000:6.1f} {body.count('<'):6d} {reader:>9s} {ours * 1e6:8.0f} µs "
              f"{theirs * 1e6:8.0f} µs {theirs / ours:6.1f}×", flush=True)


if __name__ == "__main__":
    main()
