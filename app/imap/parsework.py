"""Parse and classify in a worker process, with a time budget per message.

Whatever a message holds and whatever the patterns do (the shipped ones are linear; a user's own
rules file need not be), one message never holds the others back: each is read in a worker
process that is killed and replaced when it overruns ``budget`` seconds. The message is then
stored with what is cheap to know (its headers) and a reason saying it was not classified, and
ingestion goes on. Each thread of the parse pool owns one worker, so with two a slow message in
one mailbox leaves the other worker to the rest.

A fetched batch goes to the worker in one frame (up to ``FRAME_BYTES``) and the answers come
back one by one as each message is read: the worker reads on without waiting for the engine, so
a busy machine's scheduling delay is paid once per batch, not twice per message. Each answer is
still awaited for at most ``budget`` seconds from the one before.
"""

from __future__ import annotations

import email.message
import email.parser
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from app.mail import NoiseContext, classify, parse
from app.mail.headers import decode_header, parse_addresses, parse_date, parse_message_ids
from app.mail.learn import examples_from
from app.mail.rules import Rules
from app.mail.sanitize import one_line
from app.mail.thread import thread_key
from app.mail.types import Classification, ParsedMessage

log = logging.getLogger(__name__)

HEADER_CAP = 64 * 1024
START_TIMEOUT = 60.0
FRAME_BYTES = 8 * 1024 * 1024
"""Message bytes sent to the worker in one frame (a batch of big messages goes in several)."""


def _serve() -> None:
    """The worker (``python -m app.imap.parsework``): frames on stdin, answers on stdout."""
    noise: NoiseContext | None = None
    rules: Rules | None = None
    learned = None
    out = sys.stdout.buffer
    _send(out, "ready")
    while True:
        request = _receive(sys.stdin.buffer)
        if request is None:
            return
        if request[0] == "context":
            _, noise, rules, examples = request
            learned = examples_from(examples) if examples else None
            continue
        _, raws, direction = request
        for raw in raws:
            parsed = parse(raw)
            result = classify(parsed, rules, context=noise, examples=learned) if direction == "in" else None
            _send(out, (replace(parsed, raw=b""), result))


def _send(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!I", len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = _read_exact(stream, 4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack("!I", head)
    data = _read_exact(stream, size)
    return pickle.loads(data) if len(data) == size else None


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the stream (a raw pipe returns what is there)."""
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = stream.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class MessageWorker:
    """One worker process (a plain ``python -m``: no fork of the engine's threads, nothing of the
    terminal's), used by one thread at a time. Only this worker's own pickles cross its pipes."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self._proc: subprocess.Popen[bytes] | None = None
        self._context: tuple[Any, ...] | None = None
        self._sent_context: tuple[Any, ...] | None = None
        self.overruns = 0

    def _start(self) -> subprocess.Popen[bytes]:
        # the worker imports this very replydesk, wherever the engine found it
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "app.imap.parsework"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
                                env={**os.environ, "PYTHONPATH": path})
        self._proc, self._sent_context = proc, None
        if self._wait(proc, START_TIMEOUT) != "ready":
            self.kill()
            raise RuntimeError("the parse worker did not start")
        return proc

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float) -> Any:
        assert proc.stdout is not None
        # Read the pipe itself, never through a buffer: a buffered read takes in the answers
        # that follow too, and poll, which sees only the pipe, would then wait on them in vain.
        # poll, not select: an engine with a thousand connections has descriptors past
        # select's limit (FD_SETSIZE, 1024), and the pipe gets one of them.
        raw = proc.stdout.raw  # type: ignore[attr-defined]
        poller = select.poll()
        poller.register(raw, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            raise TimeoutError
        return _receive(raw)

    def set_context(self, noise: NoiseContext | None, rules: Rules | None,
                    examples: tuple[tuple[str, str], ...]) -> None:
        self._context = (noise, rules, examples)

    def read(self, raw: bytes, direction: str) -> tuple[ParsedMessage, Classification | None]:
        return self.read_many([raw], direction)[0]

    def read_many(self, raws: list[bytes], direction: str) -> list[tuple[ParsedMessage, Classification | None]]:
        """Each message parsed (and classified, ``direction == "in"``), in order; one that is not
        read within the budget is kept with its headers and the rest go to a new worker."""
        out: list[tuple[ParsedMessage, Classification | None]] = []
        while len(out) < len(raws):
            frame = _frame(raws, len(out))
            out += self._read_frame(frame, direction)
        return out

    def _read_frame(self, raws: list[bytes], direction: str) -> list[tuple[ParsedMessage, Classification | None]]:
        """Answers for a prefix of ``raws``: all of them, or those before one that failed (which
        ends the list with its headers-only reading)."""
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        assert proc.stdin is not None
        out: list[tuple[ParsedMessage, Classification | None]] = []
        try:
            if self._sent_context != self._context and self._context is not None:
                _send(proc.stdin, ("context", *self._context))
                self._sent_context = self._context
            _send(proc.stdin, ("read", raws, direction))
            for raw in raws:
                answer = self._wait(proc, self.budget)
                if answer is None:
                    raise EOFError("the worker closed its pipe")
                parsed, result = answer
                out.append((replace(parsed, raw=raw), result))
        except TimeoutError:
            self.overruns += 1
            log.warning("a message took longer than %.0f s to read: stored with its headers, not classified",
                        self.budget)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:  # the worker died: say so, go on
            log.warning("the parse worker stopped (%s): the message is stored with its headers", exc)
        else:
            return out
        self.kill()
        out.append(headers_only(raws[len(out)], self.budget, direction))
        return out

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait(5)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    close = kill


def _frame(raws: list[bytes], start: int) -> list[bytes]:
    """``raws[start:]`` up to ``FRAME_BYTES`` (at least one message)."""
    end, size = start, 0
    while end < len(raws) and (end == start or size + len(raws[end]) <= FRAME_BYTES):
        size += len(raws[end])
        end += 1
    return raws[start:end]


def headers_only(raw: bytes, budget: float, direction: str) -> tuple[ParsedMessage, Classification | None]:
    """What is cheap to know of a message that could not be read in time: its headers (the
    header block, at most 64 KB), and a reason in place of a category."""
    head = raw[:HEADER_CAP]
    end = head.find(b"\r\n\r\n")
    end = head.find(b"\n\n") if end < 0 else end
    block = head if end < 0 else head[:end]
    try:
        msg = email.parser.BytesHeaderParser().parsebytes(block)
    except Exception:
        msg = email.message.Message()
    headers = {k.lower(): one_line(decode_header(v))[:4000] for k, v in msg.items()}
    from_ = parse_addresses(msg.get("from"))
    ids = parse_message_ids(msg.get("message-id"))
    in_reply = parse_message_ids(msg.get("in-reply-to"))
    refs = parse_message_ids(msg.get("references"))
    subject = headers.get("subject", "")
    note = f"(not read: this message took longer than {budget:.0f} s to read; open it in your mail client)"
    parsed = ParsedMessage(
        message_id=ids[0] if ids else None, in_reply_to=in_reply[0] if in_reply else None, references=refs,
        subject=subject, from_=from_[0] if from_ else None, to=parse_addresses(msg.get("to")),
        cc=parse_addresses(msg.get("cc")), reply_to=parse_addresses(msg.get("reply-to")),
        date=parse_date(msg.get("date")), text=note, new_text=note, quoted_text="", snippet=note,
        attachments=[], size=len(raw),
        thread_key=thread_key(ids[0] if ids else None, in_reply[0] if in_reply else None, refs, subject,
                              from_[0].email if from_ else ""),
        headers=headers, defects=["NotClassifiedInTime"], raw=raw)
    if direction != "in":
        return parsed, None
    return parsed, Classification(kind="reply", category="uncategorized", confidence=0.0,
                                  reasons=[f"not classified: took longer than {budget:.0f} s to read"])


if __name__ == "__main__":
    _serve()
