"""The return date in an out-of-office text: "back on 14 March", "bis 14.03.", "jusqu'au 14 mars".

The text comes folded (lower case, no diacritics: ``rules.fold``), so "ate 20 marco" reads like
"até 20 março"; month and weekday names are folded here the same way. Dates are read only right
after a word that introduces a return ("until", "bis", "hasta" … from the rules), so a date in a
signature or a quoted mail is not taken for one. A date with no year gets the message's year, or
the next one if that would put the return far in the past.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from app.mail.rules import fold, fold_pattern

_MONTHS = {
    1: "january jan januar janvier enero janeiro gennaio januari styczeń stycznia sty ene gen jän",
    2: "february feb februar février fevrier febrero fevereiro febbraio februari luty lutego lut fév fev",
    3: "march mar märz maerz mars marzo março marco maart marzec marca",
    4: "april apr avril abril aprile kwiecień kwietnia kwi avr abr",
    5: "may mai mayo maio maggio mei maj maja mag",
    6: "june jun juni juin junio junho giugno czerwiec czerwca cze giu",
    7: "july jul juli juillet julio julho luglio lipiec lipca lip lug",
    8: "august aug août aout agosto augustus sierpień sierpnia sie ago",
    9: "september sep sept septembre septiembre setembro settembre wrzesień września wrz set",
    10: "october oct oktober octobre octubre outubro ottobre październik października paź okt out ott",
    11: "november nov novembre noviembre novembro listopad listopada lis",
    12: "december dec dezember décembre decembre diciembre dezembro dicembre grudzień grudnia gru dez dic",
}
_MONTH = {fold(name): number for number, names in _MONTHS.items() for name in names.split()}
_MONTH_RX = "|".join(sorted((re.escape(m) for m in _MONTH), key=len, reverse=True))

_NUMERIC = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./-])(\d{1,2})(?:\5(\d{2,4}))?")
_DAY_MONTH = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th|er|º|\.)?\s*(?:de\s+)?({_MONTH_RX})\.?(?:\s+(?:de\s+)?(\d{{4}}))?\b",
                        re.IGNORECASE)
_MONTH_DAY = re.compile(rf"({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_WEEKDAY = re.compile(fold_pattern(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"
    r"sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|"
    r"segunda(?:-feira)?|terça(?:-feira)?|quarta(?:-feira)?|quinta(?:-feira)?|sexta(?:-feira)?|lunedì|"
    r"martedì|mercoledì|giovedì|venerdì|maandag|dinsdag|woensdag|donderdag|vrijdag|poniedziałek|wtorek|"
    r"środa|środę|czwartek|piątek|mon|tue|wed|thu|fri)[,.]?\s+(?:(?:the|le|el|il|den|de|o|dia)\s+)?"))


def return_date(text: str, lead_words: re.Pattern[str] | None, sent: datetime | None) -> date | None:
    """The first date that follows one of ``lead_words`` in ``text`` (folded), or None."""
    if lead_words is None:
        return None
    for lead in lead_words.finditer(text):
        after = text[lead.end():lead.end() + 60].lstrip(" :,")
        after = re.sub(r"^(?:(?:on|the|le|el|il|am|zum|dem|den|al|o|dia|de|op|dnia)\s+)+", "",
                       after, flags=re.IGNORECASE)
        after = _WEEKDAY.sub("", after)
        found = _date_at_start(after, sent)
        if found is not None:
            return found
    return None


def _date_at_start(text: str, sent: datetime | None) -> date | None:
    m = _NUMERIC.match(text)
    if m:
        if m.group(1):
            return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), sent)
        a, b = int(m.group(4)), int(m.group(6))
        year = _year(m.group(7))
        # Day first, as in nearly all of our languages; month first only when day-first is impossible.
        day, month = (a, b) if b <= 12 else (b, a)
        return _make(year, month, day, sent)
    m = _DAY_MONTH.match(text)
    if m:
        return _make(_year(m.group(3)), _MONTH[m.group(2).lower()], int(m.group(1)), sent)
    m = _MONTH_DAY.match(text)
    if m:
        return _make(_year(m.group(3)), _MONTH[m.group(1).lower()], int(m.group(2)), sent)
    return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _make(year: int | None, month: int, day: int, sent: datetime | None) -> date | None:
    if year is None:
        if sent is None:
            return None
        year = sent.year
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if (sent.date() - candidate).days > 31:
            year += 1
    try:
        return date(year, month, day)
    except ValueError:
        return None
