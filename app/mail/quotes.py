"""Separate what the sender wrote now from the history quoted below it.

Replies to cold email are nearly always top-posted, so we look for the first line that opens
the quoted history: an attribution ("On … wrote:" and its translations), an "Original Message"
or Outlook rule, an Outlook header block ("From:" then "Sent:"/"To:" within a few lines, in the
client's language), or a run of ``>`` lines. Everything above it is the new text. A bottom-posted
reply (nothing above the quote) keeps its unquoted lines as the new text instead.
"""

from __future__ import annotations

import re
from typing import Final

from app.mail.caseless import Caseless

# "On <date>, <name> wrote:" in the languages our users' prospects write in. Gmail may wrap
# the attribution over two lines, so these are matched against a line joined with the next.
_ATTRIBUTION: Final = re.compile(
    r"""^[\s\-*_>]{0,6}(?:
        On\s.{1,250}\s(?:wrote|writes|sent)\s?(?::|-{2,})   # English
      | .{0,200}?-{2,}\s*On\s.{1,250}\s(?:wrote|sent)\s?:  # "text--- On … wrote:" on one line
      | -{2,}\s*.{1,120}\swrote\s*-{2,}                    # "---- Name wrote ----" (Android)
      | .{0,250}[<(\[]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)\]]?.{0,40}\s(?:wrote|writes|sent|schrieb
          |a\s[ée]crit|escribi[óo]|escreveu|ha\sscritto|schreef|skrev|napisa[łl]\(?a?\)?|pisze
          |đã\sviết|het\svolgende\sgeschreven)\s?:         # any "… <address> … wrote:"
      | .{0,150}\d{1,2}:\d{2}.{0,150}[<(][\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)]\s?:  # "<date time> … <address>:"
      | Am\s.{1,250}\sschrieb\s?.{0,120}:                 # German
      | .{0,250}\sschrieb\s?:                             # German, short form
      | Le\s.{1,250}\sa\s[ée]crit\s?:                     # French
      | El\s.{1,250}\sescribi[óo]\s?:                      # Spanish
      | Em\s.{1,250}\sescreveu\s?:                        # Portuguese
      | Il\s.{1,250}\sha\sscritto\s?:                     # Italian
      | Op\s.{1,250}\s(?:schreef|geschreven)\s?.{0,120}:  # Dutch
      | W\sdniu\s.{1,250}\s(?:pisze|napisa[łl]\(?a?\)?)\s?:   # Polish
      | .{1,250}\snapisa[łl]\(?a?\)?\s?:                  # Polish, short form
      | Den\s.{1,250}\sskrev\s?.{0,120}:                  # Swedish, Danish, Norwegian
      | .{1,250}\s(?:написал|написала|написал\(а\)|пишет)\s?:  # Russian
      | \d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{1,250}<?\S+@\S+>?.{0,40}:   # "<date> <address> …:" (Android)
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

_STARTER: Final = re.compile(r"^[\s\-*_]*(?:On|Am|Le|El|Em|Il|Op|W\sdniu|Den|\d{1,4}[./-]\d)\b",
                             re.IGNORECASE)

_SEPARATOR: Final = re.compile(
    r"""^[\s*>]{0,4}(?:
        -{2,}\s*(?:Original\sMessage|Urspr[üu]ngliche\sNachricht|Message\sd'origine
            |Mensaje\soriginal|Mensagem\soriginal|Messaggio\soriginale|Oorspronkelijk\sbericht
            |Oryginalna\swiadomo[śs][ćc]|Originalmeddelande|Forwarded\smessage
            |Weitergeleitete\sNachricht|Message\stransf[ée]r[ée]|Mensaje\sreenviado
            )\s*-{2,}
      | _{20,}
      | \*\s\*\s\*                                     # an <hr> as htmltext writes it
      | Begin\sforwarded\smessage:
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

# Outlook's quoted header block: a "From:" (or "Date:") line, then another header line close below.
_FROM_NAMES: Final = "From|Von|De|Da|Van|Od|Från|Fra|Lähettäjä|От"
_DATE_NAMES: Final = "Date|Datum|Data|Fecha|Sent|Gesendet|Envoy[ée]"
_HEADER_FROM: Final = re.compile(rf"^[\s*>]{{0,4}}(?:{_FROM_NAMES})\s?:\s*\*{{0,2}}\s*\S", re.IGNORECASE)
_HEADER_FIRST: Final = re.compile(rf"^[\s*>]{{0,4}}(?:{_FROM_NAMES}|{_DATE_NAMES})\s?:\s*\*{{0,2}}\s*\S",
                                  re.IGNORECASE)
_HEADER_NEXT: Final = re.compile(
    r"^[\s*>]{0,4}(?:Sent|Date|To|Subject|Gesendet|Datum|An|Betreff|Envoy[ée]|[ÀA]|Objet"
    r"|Enviad[oa](?:\sel)?|Fecha|Para|Asunto|Data|Inviato|Oggetto|Verzonden|Aan|Onderwerp"
    r"|Wys[łl]an[oe]|Do|Temat"
    r"|Skickat|Till|Ämne|Sendt|Til|Emne|Отправлено|Кому|Тема|Дата)\s?:",
    re.IGNORECASE,
)


# A line that is only a date and an address, with the quote right below (old Gmail).
_DATE_AND_ADDRESS: Final = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s.{0,120}<[^<>\s]+@[^<>\s]+>\s*$")


# A word that every branch of ``_ATTRIBUTION`` but two needs, searched as it does (case-blind); the
# two that name no word need an address (an "@") and either a date at the start of the line or
# a time with the line ending in the address and a colon. A line with none of these cannot match
# it. tests/test_mail_properties.py holds each branch to this check.
_ATTRIBUTION_WORD: Final = Caseless(
    "wrote|writes|sent|schrieb|crit|escrib|escreveu|scritto|schreef|geschreven|skrev|napisa|pisze"
    "|viết|написал|пишет")
_STARTS_WITH_DATE: Final = re.compile(r"[\s\-*_>]{0,6}\d{1,4}[./-]\d")
_TIME: Final = re.compile(r"\d:\d\d")
_ENDS_WITH_ADDRESS: Final = re.compile(r"[>)]\s?:\s*$")


def _may_be_attribution(text: str) -> bool:
    """Whether ``text`` has what every attribution ``_ATTRIBUTION`` matches has: it ends in ":"
    or a dash rule, and holds one of a few words, or an address with a date or a time. A few
    cheap checks that keep the costly pattern off nearly every line (on a line with an address
    and a colon, as bounce notices have many, it backtracks over every split of the line)."""
    if not text.rstrip().endswith((":", "-")):
        return False
    if _ATTRIBUTION_WORD.span(text) is not None:
        return True
    return "@" in text and (_STARTS_WITH_DATE.match(text) is not None or (
        _TIME.search(text) is not None and _ENDS_WITH_ADDRESS.search(text) is not None))


def _is_attribution(text: str) -> bool:
    return _may_be_attribution(text) and _ATTRIBUTION.match(text) is not None


def _is_quote(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _opens_history(lines: list[str], i: int) -> bool:
    """Whether line ``i`` opens the quoted history. Each pattern is tried only on a line holding a
    character every match of it holds (none of them a letter, so case folding cannot stand in for
    one): a separator a dash, an underscore, a star or a colon ("Begin forwarded message:"); a
    header line a colon; a date with an address an "@"; a wrapped attribution joined with the next
    line ends as that line does (or as this one, when the next is blank)."""
    line = lines[i]
    if len(line) > 400:
        return False
    colon = ":" in line
    if (colon or "-" in line or "_" in line or "*" in line) and _SEPARATOR.match(line):
        return True
    if colon and _HEADER_FIRST.match(line):
        # "From:" (or "Date:") then another header line close below: a quoted header block.
        following = [ln for ln in lines[i + 1:i + 5] if ln.strip()]
        if any(_HEADER_NEXT.match(ln) or _HEADER_FROM.match(ln) for ln in following[:3]):
            return True
    if _is_attribution(line):
        return True
    if "@" in line and _DATE_AND_ADDRESS.match(line):
        following = [ln for ln in lines[i + 1:i + 4] if ln.strip()]
        return bool(following) and _is_quote(following[0])
    if _STARTER.match(line):
        # An attribution wrapped over up to five lines ("On …\n<\nmailto:…>\nwrote:").
        joined = line.strip()
        for nxt in lines[i + 1:i + 6]:
            if _STARTER.match(nxt) or _is_attribution(nxt):
                break  # the attribution starts below: this line is the sender's ("On peut…")
            joined = f"{joined} {nxt.strip().lstrip('>').strip()}".strip()
            if len(joined) > 400:
                break
            if _is_attribution(joined):
                return True
    if i + 1 < len(lines) and line.strip() and len(lines[i + 1]) < 200:
        if not (lines[i + 1].strip() or line).rstrip().endswith((":", "-")):
            return False  # (the joined line cannot end as every attribution does)
        joined = f"{line.rstrip()} {lines[i + 1].strip()}"
        if not _is_attribution(joined):
            return False
        # Both "X\nOn … wrote:" and "On …\n… wrote:" match when joined; only the second
        # starts the attribution on this line.
        return (not _is_attribution(lines[i + 1]) or _STARTER.match(line) is not None
                or line.rstrip().endswith(("<", ",")))
    return False


def split_reply(text: str) -> tuple[str, str]:
    """Return ``(new_text, quoted_text)`` for a reply body (LF line endings)."""
    lines = text.split("\n")
    cut = None
    for i, line in enumerate(lines):
        if _is_quote(line) or _opens_history(lines, i):
            cut = i
            break
    if cut is None:
        return text.strip("\n"), ""
    new = "\n".join(lines[:cut]).strip()
    quoted = "\n".join(lines[cut:]).strip("\n")
    if not new:
        # Bottom-posted or interleaved: the unquoted lines are what the sender wrote, up to
        # an Outlook block or separator, below which everything is history.
        kept = []
        skip = -1
        for i in range(cut, len(lines)):
            line = lines[i]
            if _is_quote(line) or i == skip or _is_attribution(line):
                continue
            if _opens_history(lines, i):
                if _SEPARATOR.match(line) or _HEADER_FIRST.match(line):
                    break
                skip = i + 1  # an attribution wrapped over two lines
                continue
            kept.append(line)
        new = "\n".join(kept).strip()
    return new, quoted
