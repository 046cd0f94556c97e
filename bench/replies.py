"""Prospects' replies as the benches send them: short answers of each kind, one with a
signature, one quoting a thread (a few hundred bytes to a few KB)."""

from html import escape

BODIES = [
    "Thanks for reaching out. Could you send pricing for a team of 12?",
    "Not interested, please remove me from your list.",
    "I'm out of the office until Monday with limited access to email.",
    "Sounds good, let's talk Thursday at 3pm. Here is my calendar link.\n\n" + "Best,\nSam\n" * 3,
    "Who is the right person? Probably my colleague jane@prospect.example.\n\n> earlier text\n" * 20,
]


def quoting(reply: str, original: str, wrote: str) -> str:
    """``reply`` above ``original``, quoted as mail clients quote it after the line ``wrote``."""
    quoted = "\n".join(f"> {line}" for line in original.splitlines())
    return f"{reply}\n\n{wrote}\n{quoted}\n"


def gmail_html(reply: str, original: str, wrote: str) -> str:
    """``quoting`` as Gmail writes it in HTML: a ``<div>`` a line, the original in a blockquote."""
    def lines(text: str) -> str:
        return "".join(f"<div>{escape(line)}</div>" if line else "<div><br></div>" for line in text.splitlines())
    return (f'<div dir="ltr">{lines(reply)}</div><br><div class="gmail_quote"><div dir="ltr" '
            f'class="gmail_attr">{escape(wrote)}<br></div><blockquote class="gmail_quote" style="margin:0px '
            f'0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">'
            f"{lines(original)}</div></blockquote></div>")
