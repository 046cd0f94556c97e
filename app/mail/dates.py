"""The return date in an out-of-office text: "back on 14 March", "bis 14.03.", "jusqu'au 14 mars".

The text comes folded (lower case, no diacritics: ``folding.fold``), so "ate 20 marco" reads like
"até 20 março"; month and weekday names are folded here the same way. Dates are read only right
after a word that introduces a return ("until", "bis", "hasta" … from the rules), so a date in a
signature or a quoted mail is not taken for one. A date after a word that announces the return
("back on", "retour le") wins over one after a word that ends the absence ("until", "bis"), so
"closed until 2 January, back on 5 January" is back on the 5th; so does a date right before such
words ("ab dem 14.01. wieder erreichbar").

A date with no year is the next such date from the message's Date header (a few days' grace for a
notice sent late). "04/01" is day first unless ``month_first`` (an English notice sent from the
Americas) says otherwise, and a weekday written with it decides between the two readings when
both are possible: "Mon 1/18" and "Mon 1/4" (2027) are both January.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Final

from app.mail.folding import fold

_MONTHS: Final = {
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
_MONTH: Final = {fold(name): number for number, names in _MONTHS.items() for name in names.split()}
_MONTH_RX: Final = "|".join(sorted((re.escape(m) for m in _MONTH), key=len, reverse=True))

_NUMERIC: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./-])(\d{1,2})(?:\5(\d{2,4}))?")
_DAY_MONTH: Final = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th|er|º|\.)?\s*(?:de\s+)?({_MONTH_RX})\.?(?:\s+(?:de\s+)?(\d{{4}}))?\b",
                               re.IGNORECASE)
_MONTH_DAY: Final = re.compile(rf"({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_WEEKDAYS: Final = {
    0: "monday montag lundi lunes segunda segunda-feira lunedì maandag poniedziałek mon",
    1: "tuesday dienstag mardi martes terça terça-feira martedì dinsdag wtorek tues tue",
    2: "wednesday mittwoch mercredi miércoles quarta quarta-feira mercoledì woensdag środa środę wed",
    3: "thursday donnerstag jeudi jueves quinta quinta-feira giovedì donderdag czwartek thurs thu",
    4: "friday freitag vendredi viernes sexta sexta-feira venerdì vrijdag piątek fri",
    5: "saturday samstag samedi sábado sabato zaterdag sobota sat",
    6: "sunday sonntag dimanche domingo domenica zondag niedziela sun",
}
_WEEKDAY_NUMBER: Final = {fold(name): number for number, names in _WEEKDAYS.items() for name in names.split()}
_WEEKDAY: Final = re.compile(
    "^(" + "|".join(sorted((re.escape(w) for w in _WEEKDAY_NUMBER), key=len, reverse=True))
    + r")[,.]?\s+(?:(?:the|le|el|il|den|de|o|dia)\s+)?")
# A day alone after a return word, "back on the 7th": an ordinal, and not a time or a duration.
_DAY_ONLY: Final = re.compile(r"(\d{1,2})(?:st|nd|rd|th|er|º|\.)(?![\d/.-])(?! ?(?:am|pm|h\b|uhr|hours|days|weeks))")
_GRACE: Final = timedelta(days=7)


def return_date(text: str, lead_words: re.Pattern[str] | None, sent: datetime | None,
                back_words: re.Pattern[str] | None = None, back_after: re.Pattern[str] | None = None,
                *, month_first: bool = False) -> date | None:
    """The return date in ``text`` (folded): the first date after one of ``back_words``, else the
    last date right before one of ``back_after``, else the first date after ``lead_words``."""
    if back_words is not None:
        found = _after_lead(text, back_words, sent, month_first, day_only=True)
        if found is not None:
            return found
    if back_after is not None:
        for m in back_after.finditer(text):
            found = _date_before(text[max(0, m.start() - 40):m.start()], sent, month_first)
            if found is not None:
                return found
    if lead_words is None:
        return None
    return _after_lead(text, lead_words, sent, month_first, day_only=False)


def _after_lead(text: str, leads: re.Pattern[str], sent: datetime | None, month_first: bool,
                *, day_only: bool) -> date | None:
    for lead in leads.finditer(text):
        after = text[lead.end():lead.end() + 60].lstrip(" :,")
        after = _ARTICLES.sub("", after)
        weekday = None
        if (wd := _WEEKDAY.match(after)) is not None:
            weekday = _WEEKDAY_NUMBER.get(wd.group(1))
            after = after[wd.end():]
        found = _date_at_start(after, sent, month_first, weekday)
        if found is None and day_only and sent is not None and (m := _DAY_ONLY.match(after)):
            found = _day_of_month(int(m.group(1)), sent)
        if found is not None:
            return found
    return None


_ARTICLES: Final = re.compile(r"^(?:(?:on|the|le|el|il|am|zum|dem|den|al|o|dia|de|op|dnia)\s+){1,4}")
# A date at the end of a short stretch of text (numeric, or day and month name), for back_after;
# the text is normalized (single spaces), the stretch at most 40 characters.
_END_DATE: Final = re.compile(r"(?:^|[ (])(?:([a-z]{2,12})[,.]? )?(\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\.?"
                              r"|\d{1,2}(?:st|nd|rd|th|er|\.)? ?[a-z]{3,10}\.?(?: \d{4})?)[,.]? ?$")


def _date_before(window: str, sent: datetime | None, month_first: bool) -> date | None:
    m = _END_DATE.search(window)
    if m is None:
        return None
    weekday = _WEEKDAY_NUMBER.get(m.group(1) or "")
    return _date_at_start(m.group(2).rstrip("."), sent, month_first, weekday)


def _day_of_month(day: int, sent: datetime) -> date | None:
    """The next ``day`` of a month from ``sent``: this month's, or next month's if it has passed."""
    year, month = sent.year, sent.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= sent.date():
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _date_at_start(text: str, sent: datetime | None, month_first: bool = False,
                   weekday: int | None = None) -> date | None:
    m = _NUMERIC.match(text)
    if m:
        if m.group(1):
            return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), sent)
        a, b = int(m.group(4)), int(m.group(6))
        year = _year(m.group(7))
        if a > 12 or b > 12:  # only one reading is possible
            day, month = (a, b) if b <= 12 else (b, a)
            return _make(year, month, day, sent)
        first, second = _make(year, b, a, sent), _make(year, a, b, sent)  # day-first, month-first
        if weekday is not None:
            for candidate in (second, first) if month_first else (first, second):
                if candidate is not None and candidate.weekday() == weekday:
                    return candidate
        return second if month_first else first
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
        if candidate < sent.date() - _GRACE:  # the next such date
            year += 1
    try:
        return date(year, month, day)
    except ValueError:
        return None
