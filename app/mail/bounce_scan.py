"""flufl.bounce's scan (``all_failures``), with the same detectors in the same order and the same
answers, but its two slowest detectors made cheap.

``SimpleMatch`` and ``SimpleWarning`` look for ~40 start patterns, and for each one walk every
line of every part again with a ``search`` per line: most of the time of a bounce's reading.
Here the lines are read once, and each start pattern is first looked for in all of them at
once: in ASCII text (and most other text, below), the plain run of letters every match of it holds, lower-cased, in the
lower-cased text (a case-insensitive match of ASCII letters is exactly that); otherwise the
pattern itself, compiled with ``MULTILINE`` over the lines joined with line breaks, where
``^``, ``$`` and ``\\b`` see the same neighbours as on a line of their own. Either way no line
that matches alone is missed. Only the pattern sets whose start is found are then walked line
by line, exactly as flufl.bounce does.

Text outside ASCII takes the same cheap look where it holds none of the four characters that
case folding takes for ASCII letters (``caseless.FOLDS_TO_ASCII``): every match of an ASCII run
is then made of ASCII characters, which lower-casing the text keeps side by side, so a run that
is not in the lower-cased text is in no match (lower-casing the rest may add a false hit, which
only costs the exact walk).

What it reads of flufl.bounce is private (``_scan._DETECTORS``, the detectors' modules and
patterns), and follows flufl.bounce 6: with another release or another list of detectors
(``FOLLOWS`` false), or where those private names are gone (importing this module fails),
``app.mail.bounce`` reads bounces with flufl.bounce's own scan, slower and never different.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.iterators import body_line_iterator
from email.message import Message

import flufl.bounce
from flufl.bounce import _scan
from flufl.bounce._detectors import aol, caiwireless, dsn, exchange, exim, qmail, yahoo, yale
from flufl.bounce._detectors.simplematch import VALID, SimpleMatch, _quopri_decode
from flufl.bounce._detectors.simplewarning import SimpleWarning

from app.mail.caseless import FOLDS_TO_ASCII
from app.mail.headers import _SPEC, simple_addresses
from app.mail.phrases import required_run

_Sets = list[tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]]


def _lowered_run(rx: re.Pattern[str], shortest: int = 1) -> str | None:
    """What every match of a case-insensitive ``rx`` holds, lower-cased, in a lower-cased ASCII
    line; None where there is nothing to be sure of."""
    run = required_run(rx.pattern)
    return run.lower() if len(run) >= shortest and run.isascii() and rx.flags & re.IGNORECASE else None


class _Start:
    """Whether a start pattern matches any of the lines."""

    def __init__(self, scre: re.Pattern[str]) -> None:
        self.multiline = re.compile(scre.pattern, scre.flags | re.MULTILINE)
        self.run = _lowered_run(scre, 3)

    def found(self, lines: _Lines) -> bool:
        if self.run is not None and lines.lowered is not None:
            return self.run in lines.lowered
        return self.multiline.search(lines.joined) is not None


def _starts(patterns: _Sets) -> list[_Start]:
    return [_Start(scre) for scre, _, _ in patterns]


def _runs(patterns: _Sets) -> list[tuple[str | None, str | None]]:
    """For each set, the runs its address and end patterns need in a line."""
    return [(_lowered_run(acre), _lowered_run(ecre)) for _, ecre, acre in patterns]


class _Lines:
    """The body lines of one message, read once for both detectors."""

    def __init__(self, msg: Message) -> None:
        self.lines = list(body_line_iterator(msg))
        self.joined = "\n".join(self.lines)
        cheap = self.joined.isascii() or FOLDS_TO_ASCII.search(self.joined) is None
        self.lowered = self.joined.lower() if cheap else None
        self._lowered_lines: list[str] | None = None

    @property
    def lowered_lines(self) -> list[str] | None:
        """Each line lower-cased, where the text holds no character that folds to an ASCII letter
        (a case-insensitive match of an ASCII run is then a plain one in the lower-cased line)."""
        if self._lowered_lines is None and self.lowered is not None:
            self._lowered_lines = [line.lower() for line in self.lines]
        return self._lowered_lines


def _scan_lines(lines: _Lines, patterns: _Sets, starts: list[_Start],
                runs: list[tuple[str | None, str | None]]) -> frozenset[bytes]:
    """SimpleMatch.process over ``lines``: the same loop, skipping the sets that cannot start,
    and (where ``lines.lowered`` is kept) the searches of a line that lacks what the pattern needs."""
    addresses: set[bytes] = set()
    for (scre, ecre, acre), start, (arun, erun) in zip(patterns, starts, runs, strict=True):
        if not start.found(lines):
            continue  # no line matches scre: flufl's loop would find nothing in this set
        lowered = lines.lowered_lines
        srun = start.run if lowered is not None else None
        if lowered is None:
            arun = erun = None
        seen = False
        for i, line in enumerate(lines.lines):
            if not seen:
                if (srun is not None and srun not in lowered[i]) or not scre.search(line):  # type: ignore[index]
                    continue
                seen = True
            if arun is None or arun in lowered[i]:  # type: ignore[index]
                if mo := acre.search(line):
                    if address := mo.group("addr"):
                        addresses.add(_quopri_decode(address))
                    continue
            if (erun is None or erun in lowered[i]) and ecre.search(line):  # type: ignore[index]
                break
        if addresses:
            break
    return frozenset(a for a in addresses if VALID.match(a))


_MATCH_STARTS = _starts(SimpleMatch.PATTERNS)
_WARNING_STARTS = _starts(SimpleWarning.PATTERNS)
_MATCH_RUNS = _runs(SimpleMatch.PATTERNS)
_WARNING_RUNS = _runs(SimpleWarning.PATTERNS)


def _first_address(msg: Message, lower: bool = False) -> str | None:
    """``parseaddr(msg.get("from", ""))[1]`` (of the lower-cased value with ``lower``), where the
    From header has one of the common shapes ``simple_addresses`` reads as the standard library
    does; None otherwise (a Header object, a missing or odd value: the detector then reads it)."""
    value = msg.get("from", "")
    if not isinstance(value, str):
        return None
    if lower:
        value = value.lower()
    pairs = simple_addresses(value)
    if pairs:
        return pairs[0][1]
    commented = _COMMENTED.fullmatch(value)
    return commented.group(1) if commented else None


_COMMENTED = re.compile(rf"({_SPEC.pattern}) \([^()\\\"]{{0,200}}\)")
"""``MAILER-DAEMON@host (Mail Delivery System)``: an address and a comment, which parseaddr
reads as that address (tests/test_mail_properties.py holds the two to the same address)."""


def _not_from(want: Callable[[str], bool], lower: bool = False) -> Callable[[Message, _Lazy], bool]:
    def cannot(msg: Message, _lines: _Lazy) -> bool:
        sender = _first_address(msg, lower)
        return sender is not None and not want(sender)
    return cannot


def _yale_sender(sender: str) -> bool:
    username, at, domain = sender.partition("@")
    return bool(at) and username.lower() == "mailer-daemon" and domain.lower().split(".")[-2:] == ["yale", "edu"]


_CAIWIRELESS_START = _Start(caiwireless.tcre)


class _Lazy:
    """The body lines, read on first use."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._lines: _Lines | None = None

    def __call__(self) -> _Lines:
        if self._lines is None:
            self._lines = _Lines(self.msg)
        return self._lines


def _no_delivery_status(msg: Message, _lines: _Lazy) -> bool:
    """Whether no part of the message (``msg.walk()``'s parts) is a delivery status: the parts
    looked at without the generators of ``walk``, and False (let the detector read it, and fail
    as it fails) for a multipart holding anything but messages, which ``walk`` cannot walk."""
    stack = [msg]
    while stack:
        part = stack.pop()
        if part.get_content_type() == "message/delivery-status":
            return False
        if part.is_multipart():
            payload = part.get_payload()
            children = [child for child in payload if isinstance(child, Message)]
            if len(children) != len(payload):
                return False
            stack.extend(children)
    return True


_CANNOT_FIND: dict[type, Callable[[Message, _Lazy], bool]] = {
    # the DSN detector reads only message/delivery-status parts
    dsn.DSN: _no_delivery_status,
    # Exim reads only the X-Failed-Recipients headers
    exim.Exim: lambda msg, _lines: "x-failed-recipients" not in msg,
    # Yahoo, AOL and Yale read the body only of mail from their own mailer daemons
    yahoo.Yahoo: _not_from(lambda sender: sender.startswith("mailer-daemon@yahoo"), lower=True),
    yale.Yale: lambda msg, lines: msg.is_multipart() or _not_from(_yale_sender)(msg, lines),
    aol.AOL: lambda msg, lines: (msg.get_content_type() != "text/plain"
                                 or _not_from(lambda sender: sender.lower().endswith("@aol.com"))(msg, lines)),
    # Qmail reads the lines after one that starts with one of its intro phrases
    qmail.Qmail: lambda _msg, lines: not any(tag in lines().joined for tag in qmail.introtags),
    # Caiwireless and Exchange read the lines after one their start pattern matches
    caiwireless.Caiwireless: lambda _msg, lines: not _CAIWIRELESS_START.found(lines()),
    exchange.Exchange: lambda _msg, lines: exchange.scre.search(lines().joined) is None,
}
"""Detectors that cannot find anything in this message: the sender their reading needs is not
the message's (read as ``email.utils.parseaddr`` reads it, only where ``simple_addresses`` is
sure to read it alike), or the text their first step needs is nowhere in the body's lines
(checked once over all the lines, not line by line). Each one would return no failures, and
raise nothing, for the message."""


_FOLLOWED = ["DSN", "Exim", "Sina", "Yahoo", "Yale", "SMTP32", "Postfix", "Qmail", "GroupWise", "Microsoft",
             "Caiwireless", "Exchange", "Netscape", "AOL", "SimpleMatch", "SimpleWarning", "LLNL"]
FOLLOWS = (getattr(flufl.bounce, "__version__", "").split(".")[0] == "6"
           and [d.__name__ for d in _scan._DETECTORS] == _FOLLOWED)
"""Whether the flufl.bounce here is the one this scan follows: release 6, its detectors in this order."""


def all_failures(msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """``flufl.bounce.all_failures(msg)``: (temporary, permanent) failed addresses."""
    lines = _Lazy(msg)
    temporary: set[bytes] = set()
    permanent: set[bytes] = set()
    for detector in _scan._DETECTORS:
        temp: frozenset[bytes]
        perm: frozenset[bytes]
        if detector is SimpleMatch:
            temp, perm = frozenset(), _scan_lines(lines(), SimpleMatch.PATTERNS, _MATCH_STARTS, _MATCH_RUNS)
        elif detector is SimpleWarning:
            temp, perm = _scan_lines(lines(), SimpleWarning.PATTERNS, _WARNING_STARTS, _WARNING_RUNS), frozenset()
        elif (cannot := _CANNOT_FIND.get(detector)) is not None and cannot(msg, lines):
            continue
        else:
            temp, perm = detector().process(msg)
        temporary.update(temp)
        permanent.update(perm)
        if temp or perm:
            break
    return frozenset(temporary), frozenset(permanent)
