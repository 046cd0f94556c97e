"""The reader's regular expressions, compiled once and kept from one start to the next.

A process about to read mail (the parse workers' fork server) compiles some 1,700 regular
expressions as it imports the reader, builds the classifier's phrase alternations and compiles
each phrase alone, and reads each of ~1,300 phrases for the pieces a match must hold and how it
begins (``phrases.reading``): a fifth of a second, before the first message of a first sync can
be read. The standard library
keeps what it compiles for the life of a process only; this module keeps it as plain data:

- ``start(data)``, before the reader's modules are imported: this process's regex compiler looks
  in ``data`` first, and the phrase readings kept there are known;
- ``finish()``, once the reader is warm: the compiler is the standard library's again, and the
  answer says whether ``data`` should be made again (something was compiled that it lacked, or
  it holds what was not asked for: replydesk or its rules changed);
- ``snapshot()``: what was asked between the two, as data. An expression that was compiled is
  kept only where the standard library's own steps, taken here, give a pattern equal to the one
  it made (the same text, flags and code).

It leans on the regex engine's private parts (``re._compiler``, ``re._parser``, ``_sre``), as
phrases.py does. So data is used only by the Python build that made it (its version and the
regex engine's magic number) and with the same phrase reading (phrases.py's own file), and
wherever those parts are missing or behave otherwise nothing is kept: every expression is
compiled as before. Slower, never different. The caller reads and writes the data (no IO here but
a look at phrases.py's file for the tag).
"""

from __future__ import annotations

import marshal
import re
import sys
import time
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.mail import phrases

_sre: Any
_compiler: Any
_parser: Any
try:
    import _sre  # type: ignore[no-redef]
    from re import _compiler, _parser  # type: ignore[attr-defined,no-redef]
except ImportError:  # another Python: nothing kept
    _sre = _compiler = _parser = None

FORMAT = 3
_WORD = "I"
"""The array type of a word of the regex engine's code (``_sre.CODESIZE`` bytes: 4)."""
Key = tuple[str | bytes, int]
Args = tuple[Any, ...]
"""What ``_sre.compile`` is given: the text, the flags, the code (kept as the bytes of its
words), the groups and their names."""

_kept: dict[Key, Args] = {}
_known: set[Key] = set()
"""The expressions the data names: those kept, and those it could not keep (compiled each time)."""
_asked: dict[Key, re.Pattern[Any]] = {}
_readings_kept: phrases.Readings = {}
_readings_asked: phrases.Readings = {}
_standard: Callable[..., re.Pattern[Any]] | None = None
"""The standard library's compiler while ours stands in for it."""
_missed = 0.0
"""CPU seconds spent compiling what the data did not hold, since ``start``."""
_taken = 0
"""Expressions made from the data since ``start``."""
WORTH = 0.005
"""CPU seconds of compiling that a new snapshot must save to be made. Some expressions are new in
every process (the standard library builds a few from sets, whose order changes from one
process to the next): those alone never make one."""


def tag() -> str:
    """What data must have been made with to be used here: this module's format, the Python
    build, the regex engine, and the code that reads phrases (its file's size and time)."""
    if _sre is None:
        return ""
    try:
        st = Path(phrases.__file__ or "").stat()
        reader = f"{st.st_size}:{st.st_mtime_ns}"
    except (OSError, TypeError):
        reader = "?"
    return f"{FORMAT} {sys.version} {_sre.MAGIC} {_sre.CODESIZE} {phrases.GRAM} {reader}"


def name() -> str:
    """A file name for this build's data: builds that differ keep theirs apart."""
    return f"patterns-{zlib.crc32(tag().encode()):08x}.bin"  # (the tag inside is what is checked)


def _compile(pattern: Any, flags: int = 0) -> re.Pattern[Any]:
    """``re._compiler.compile`` with the kept expressions looked up first."""
    global _missed, _taken
    assert _standard is not None and _sre is not None
    if not isinstance(pattern, (str, bytes)):
        return _standard(pattern, flags)
    key = (pattern, int(flags))
    args = _kept.get(key)
    compiled = None
    if args is not None:
        try:
            text, final, code, groups, groupindex, indexgroup = args
            compiled = _sre.compile(text, final, array(_WORD, code).tolist(), groups, groupindex, indexgroup)
            _taken += 1
        except Exception:  # noqa: BLE001 - data the engine refuses: compiled as ever
            _kept.pop(key, None)
    if compiled is None:
        began = time.process_time()  # (CPU: a busy machine does not make a compile look costly)
        compiled = _standard(pattern, flags)
        _missed += time.process_time() - began
    _asked[key] = compiled
    return compiled


def start(data: bytes | None) -> bool:
    """Look in ``data`` (from ``snapshot``; None or anything unusable: nothing) before compiling,
    from now until ``finish``; whether it stands in for the compiler (False where this Python's
    regex engine is not the one expected: everything compiles as ever)."""
    global _standard, _missed, _taken
    if _compiler is None or _standard is not None:
        return False
    _kept.clear()
    _known.clear()
    _asked.clear()
    _readings_kept.clear()
    _readings_asked.clear()
    _missed = 0.0
    _taken = 0
    kept, known, readings = _load(data)
    _standard = _compiler.compile
    _compiler.compile = _compile
    probe = f"(?:regex-cache-probe-{id(_kept)})"
    if re.compile(probe) is not _asked.pop((probe, 0), None):  # re compiles otherwise: keep out
        _compiler.compile, _standard = _standard, None
        return False
    _kept.update(kept)
    _known.update(known)
    _readings_kept.update(readings)
    phrases.record_readings(readings)
    return True


def _load(data: bytes | None) -> tuple[dict[Key, Args], set[Key], phrases.Readings]:
    if not data:
        return {}, set(), {}
    try:
        made, entries, readings = marshal.loads(data)
        if made != tag():
            return {}, set(), {}
        kept = {(pattern, flags): tuple(args) for pattern, flags, args in entries if args is not None}
        return kept, {(pattern, flags) for pattern, flags, _ in entries}, dict(readings)
    except Exception:  # noqa: BLE001 - damaged or of another format: nothing kept
        return {}, set(), {}


def finish() -> bool:
    """The standard library's compiler again; whether a new ``snapshot`` is worth making: the
    data lacked what took ``WORTH`` or more to compile, names more than twice what was asked
    (replydesk changed), or its phrase readings are not those asked for."""
    global _standard
    if _standard is None:
        return False
    assert _compiler is not None
    _compiler.compile, _standard = _standard, None
    _readings_asked.update(phrases.record_readings(None) or {})
    worth = _missed >= WORTH or len(_known) > 2 * len(_asked) or _readings_asked != _readings_kept
    _kept.clear()  # (the data's code: a megabyte a worker need not share)
    _known.clear()
    _readings_kept.clear()
    return worth


def asked() -> dict[Key, re.Pattern[Any]]:
    """Each expression compiled since ``start`` (its text and flags), and what it was given."""
    return dict(_asked)


def taken() -> int:
    """How many of the expressions compiled since ``start`` were made from the data."""
    return _taken


def snapshot() -> bytes:
    """What was asked between ``start`` and ``finish``, as data for the next ``start``: each
    expression compiled again by the standard library's steps, and kept where that gives a
    pattern equal to the one this process has (named only otherwise, compiled each time)."""
    entries: list[tuple[str | bytes, int, Args | None]] = []
    for (pattern, flags), compiled in _asked.items():
        args = _args(pattern, flags)
        if args is not None:
            text, final, code, groups, groupindex, indexgroup = args
            if _sre is None or _sre.compile(text, final, code, groups, groupindex, indexgroup) != compiled:
                args = None
            else:
                args = (text, final, array(_WORD, code).tobytes(), groups, groupindex, indexgroup)
        entries.append((pattern, flags, args))
    return marshal.dumps((tag(), entries, dict(_readings_asked)))


def _args(pattern: str | bytes, flags: int) -> Args | None:
    """What the standard library's compiler gives ``_sre.compile`` for ``pattern``: its steps."""
    if _parser is None or _compiler is None:
        return None
    try:
        parsed = _parser.parse(pattern, flags)
        code = _compiler._code(parsed, flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for group, index in groupindex.items():
            indexgroup[index] = group
        return (pattern, int(flags | parsed.state.flags), [int(op) for op in code], parsed.state.groups - 1,
                groupindex, tuple(indexgroup))
    except Exception:  # noqa: BLE001 - not as this module expects: not kept
        return None
