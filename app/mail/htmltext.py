"""Readable text from a message's HTML body, as a terminal shows it.

The HTML is parsed by Lexbor (through selectolax), a maintained HTML5 parser written in C that
reads markup the way browsers do. The text is written here, for mail: paragraphs and line breaks
kept, white space collapsed as a browser collapses it, each line of a ``<blockquote>`` marked
``> `` (``>> `` within two: how a quoted mail is told from the reply above it), a link as
``[text](address)`` (the text alone where it is the address, or the link is an e-mail address),
a rule as ``* * *``, list items as ``  * ``. Images, styles, scripts, comments and the head say
nothing to a reader and are left out; nothing is ever fetched.

html2text, on the standard library's tokenizer (in Python), took 300 ns a character of markup:
0.2-0.3 ms for a short reply, ~6 ms for an Outlook reply of 21 KB, many times what the rest of
reading a message costs; this takes 4 to 16 times less (bench/bench_html.py).

Lexbor builds a tree as browsers do, and for some nestings that costs more than linear time:
formatting elements with distinct attributes left open inside blocks are rebuilt at each block
(5,000 of ``<div><b id=N></div>``, 100 KB, took 11.6 s). So it reads a body of at most
``LEXBOR_TAGS`` tags, whose worst known nesting costs ~27 ms; a larger body is read by html2text,
in time linear in its length, as before.
"""

from __future__ import annotations

import re
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

LEXBOR_TAGS: Final = 1_500
"""The most tags (counted by their ``<``) a body may hold to be read by Lexbor (see the module's
docstring): the nestings Lexbor is slowest on took 27 ms at 1,500 tags and 47 ms at 2,000; an
Outlook reply above its thread (21 KB) holds ~670, a short reply a few dozen."""
LEXBOR_NODES: Final = 4 * LEXBOR_TAGS
"""The most nodes of Lexbor's tree written out: a tree rebuilds left-open formatting elements in
every block, up to the square of its tags (500 of ``<div><b id=N></div>`` make ~125,000 nodes,
whose walk took 0.1 s); past this many the body goes to html2text too. A tree of ordinary mail
holds about two nodes a tag (an element and its text)."""

_SPACE_CHARS: Final = " \t\n\r\f"
_SPACES: Final = re.compile(f"[{_SPACE_CHARS}]+")
"""White space as HTML collapses it (not the no-break space)."""

_LEFT_OUT: Final = frozenset({"head", "style", "script", "title", "template", "noscript", "img", "svg",
                              "object", "iframe", "select", "button"})
_PARAGRAPH: Final = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table",
                               "blockquote", "pre", "figure", "form", "fieldset"})
"""Blocks set apart by a blank line."""
_LINE: Final = frozenset({"div", "section", "article", "header", "footer", "nav", "aside", "main",
                          "center", "address", "tr", "li", "dt", "dd", "figcaption", "caption", "tbody",
                          "thead", "tfoot", "details", "summary", "body", "html"})
"""Blocks that begin and end a line."""
_CELL: Final = frozenset({"td", "th"})


class _Writer:
    """Lines of text as the walk hands it pieces, each line marked with the quote level it
    started in."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line: list[str] = []
        self.level = 0
        """Blockquotes open around the walk's place."""
        self.line_level = 0
        self.last_level = 0
        """The quote level of the last line ended."""
        self.breaks = 0
        """Line ends asked for before the next text: 1 a new line, 2 a blank line between."""
        self.space = False
        """A space is owed before the next word of this line."""

    def _end_line(self) -> None:
        self.lines.append(f"{'>' * self.line_level} " * bool(self.line_level) + "".join(self.line))
        self.last_level = self.line_level
        self.line = []
        self.space = False

    def _begin(self) -> None:
        """Honour the line ends asked for, at the first text after them."""
        if self.breaks:
            if self.line:
                self._end_line()
            if self.breaks > 1 and self.lines and self.lines[-1].lstrip(">").strip():
                # a blank line within a quote is quoted; one where a quote begins or ends is not
                self.lines.append(">" * min(self.level, self.last_level))
            self.breaks = 0
        if not self.line:
            self.line_level = self.level

    def words(self, text: str) -> None:
        """Text as HTML shows it: each run of white space one space, none at a line's start; a
        no-break space is kept (``&nbsp;`` indents and aligns)."""
        if text.isascii():  # no no-break space in it: the library's split is HTML's, and faster
            inner = " ".join(text.split())
        else:
            inner = _SPACES.sub(" ", text).strip(" ").replace("\xa0", " ")
        if not inner:
            self.space = self.space or bool(text and self.line)
            return
        self._begin()
        if self.line and (self.space or text[0] in _SPACE_CHARS) and not self.line[-1].endswith(" "):
            self.line.append(" ")
        self.line.append(inner)
        self.space = text[-1] in _SPACE_CHARS

    def verbatim(self, text: str) -> None:
        """Text kept as written (``<pre>``): its own line breaks."""
        self._begin()
        first, *rest = text.split("\n")
        self.line.append(first)
        for piece in rest:
            self._end_line()
            self.line_level = self.level
            self.line.append(piece)

    def mark(self, text: str) -> None:
        """A piece that begins a line of its own (a list item's bullet, a rule)."""
        self._begin()
        self.line.append(text)
        self.space = False

    def new_line(self, blank: bool = False) -> None:
        self.breaks = max(self.breaks, 2 if blank else 1)

    def line_break(self) -> None:
        """``<br>``: the line ends here, even an empty one."""
        self._begin()
        self._end_line()

    def text(self) -> str:
        if self.line:
            self._end_line()
        return "\n".join(self.lines)


def _link(node: LexborNode, writer: _Writer) -> None:
    href = (node.attributes.get("href") or "").strip()
    label = " ".join(node.text(deep=True).split())
    if not label:
        return  # an image or a button: nothing to read
    if not href or href == label or href.lower().startswith(("#", "javascript:", "mailto:")):
        writer.words(label)
    else:
        writer.words(f"[{label}]({href})")


def html_text(html: str) -> str:
    """The text of ``html`` (see the module's docstring). Raises only what the parsers raise."""
    text = lexbor_text(html)
    return html2text_text(html) if text is None else text


def lexbor_text(html: str) -> str | None:
    """The text of ``html`` as Lexbor reads it; None for a body past what Lexbor is given
    (``LEXBOR_TAGS``, ``LEXBOR_NODES``)."""
    if html.count("<") > LEXBOR_TAGS:
        return None
    tree = LexborHTMLParser(html)
    top = tree.body or tree.root
    if top is None:
        return ""
    writer = _Writer()
    numbers: list[int] = []
    """For each open list, the next item's number (0 in a list of bullets)."""
    preformatted = 0
    # the nodes still to be written, last first; a tag's name stands where its element ends
    stack: list[LexborNode | str] = [top]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if node == "blockquote":
                writer.level -= 1
            elif node == "pre":
                preformatted -= 1
            elif node in ("ul", "ol"):
                numbers.pop()
            writer.new_line(blank=node in _PARAGRAPH)
            continue
        visited += 1
        if visited > LEXBOR_NODES:
            return None
        tag = node.tag or ""
        if tag == "-text":
            text = node.text_content or ""
            if preformatted:
                writer.verbatim(text)
            else:
                writer.words(text)
            continue
        if tag.startswith("-") and tag != "-document" or tag in _LEFT_OUT:
            continue  # a comment, a doctype; or nothing a reader sees
        if tag == "br":
            writer.line_break()
            continue
        if tag == "a":
            _link(node, writer)
            continue
        if tag == "hr":
            writer.new_line(blank=True)
            writer.mark("* * *")
            writer.new_line(blank=True)
            continue
        if tag in _PARAGRAPH:
            writer.new_line(blank=True)
            stack.append(tag)
        elif tag in _LINE:
            writer.new_line()
            stack.append(tag)
        elif tag in _CELL:
            writer.space = True
        if tag == "blockquote":
            writer.level += 1
        elif tag == "pre":
            preformatted += 1
        elif tag in ("ul", "ol"):
            numbers.append(1 if tag == "ol" else 0)
        elif tag == "li":
            if numbers and numbers[-1]:
                writer.mark(f"  {numbers[-1]}. ")
                numbers[-1] += 1
            else:
                writer.mark("  * ")
        child = node.last_child
        while child is not None:
            stack.append(child)
            child = child.prev
    return writer.text()


def html2text_text(html: str) -> str:
    """A body Lexbor is not given, or whose tree is too large to write, read by html2text (in
    Python, in time linear in its length)."""
    import html2text  # (rarely needed: not imported by every process that reads mail, 2.6 ms)

    converter = html2text.HTML2Text(bodywidth=0)  # no wrapping: the terminal wraps
    converter.ignore_images = True  # tracking pixels and logos say nothing
    converter.ignore_emphasis = True  # "*" and "_" would read as literal text in a terminal
    converter.ignore_mailto_links = True  # "[a@b](mailto:a@b)" says the address twice
    return converter.handle(html)
