"""Parse and classify in a worker process, with a time budget per message.

Whatever a message holds and whatever the patterns do (the shipped ones are linear; a user's own
rules file need not be), one message never holds the others back: each is read in a worker
process that is killed and replaced when it spends longer than ``budget`` seconds on one message.
The message is then stored with what is cheap to know (its headers) and a reason saying it was not
classified, and ingestion goes on. Each thread of the parse pool owns one worker, so with two a
slow message in one mailbox leaves the other worker to the rest.

A fetched batch goes to the worker in one frame (up to ``FRAME_BYTES``) and the answers come back
in a few frames, each holding the messages read since the last (at most ``flush_every`` seconds
old): the worker reads on without waiting for the engine, and neither side pays a write, a wake-up
and a pickle per message. The budget does not depend on when answers arrive: before it starts a
message the worker notes which one and when in a word of memory it shares with the engine (its
*progress*), so the engine, when no answer comes, knows the message that overran and since when,
and kills the worker only once that message has had its whole budget. Answers the dead worker had
not sent yet are read again by the next worker; the one that overran is kept with its headers.
"""

from __future__ import annotations

import email.message
import email.parser
import fcntl
import logging
import math
import mmap
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
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
FLUSH_EVERY = 0.005
"""Seconds an answer may wait in the worker before it is sent (it goes with the ones after it)."""
READ_BYTES = 1 << 20
PIPE_BYTES = 1 << 20

# The progress word: the millisecond (monotonic clock, rounded up) the worker started what it is
# doing, above the message it is reading (1 + its place in the frame; 0: none, it is between
# messages: receiving a frame, or sending answers).
_PLACE_BITS = 23
_PLACE_MASK = (1 << _PLACE_BITS) - 1
FRAME_MESSAGES = _PLACE_MASK - 1
"""Messages in one frame at most (the progress word has room for their places)."""

Reading = tuple[ParsedMessage, Classification | None]


def _progress(place: int) -> int:
    return math.ceil(time.monotonic() * 1000) << _PLACE_BITS | place


def _serve(progress_fd: int, flush_every: float) -> None:
    """The worker (``python -m app.imap.parsework FD SECONDS``): frames on stdin, answers on
    stdout, its progress in the shared word on ``FD``."""
    noise: NoiseContext | None = None
    rules: Rules | None = None
    learned = None
    out = sys.stdout.buffer
    shared = mmap.mmap(progress_fd, 8)
    progress = memoryview(shared).cast("Q")  # one aligned 8-byte store: the engine never sees half
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
        answers: list[Reading] = []
        oldest = 0.0
        for place, raw in enumerate(raws):
            if answers and time.monotonic() - oldest >= flush_every:
                progress[0] = _progress(0)
                _send(out, answers)
                answers = []
            progress[0] = _progress(place + 1)
            parsed = parse(raw)
            result = classify(parsed, rules, context=noise, examples=learned) if direction == "in" else None
            parsed.raw = b""  # the engine has it
            if not answers:
                oldest = time.monotonic()
            answers.append((parsed, result))
        progress[0] = _progress(0)
        _send(out, answers)


def _send(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!I", len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next frame on the worker's stdin (a buffered reader: a read returns all it asks for,
    fewer bytes only at the end of the stream); None at the end."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack("!I", head)
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


class _Overrun(Exception):
    """Message ``place`` of the frame was not read in time, or (``died``) the worker stopped on it."""

    def __init__(self, place: int, died: str = "") -> None:
        super().__init__(died or "overran")
        self.place = place
        self.died = died


class _Answers:
    """The worker's side of one process: its frames as they arrive on the pipe, and its progress."""

    def __init__(self, proc: subprocess.Popen[bytes], shared: mmap.mmap) -> None:
        assert proc.stdout is not None
        # Read the pipe itself, never through a buffer, all that is there at once: a buffered
        # read would hide answers from poll, which sees only the pipe. poll, not select: an
        # engine with a thousand connections has descriptors past select's limit (FD_SETSIZE,
        # 1024), and the pipe gets one of them.
        self.fd = proc.stdout.fileno()
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)
        self.shared = shared
        self.progress = memoryview(shared).cast("Q")
        self.buffer = bytearray()
        self.frames: deque[Any] = deque()

    def close(self) -> None:
        self.progress.release()
        self.shared.close()

    def _take_in(self, timeout: float) -> bool:
        """Whatever the pipe holds, decoded into ``frames``; False when nothing came in ``timeout``."""
        if not self.poller.poll(max(0, math.ceil(timeout * 1000))):
            return False
        data = os.read(self.fd, READ_BYTES)
        if not data:
            raise EOFError("the worker closed its pipe")
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= 4:
            (size,) = struct.unpack_from("!I", buffer, start)
            if len(buffer) - start - 4 < size:
                break
            with memoryview(buffer)[start + 4:start + 4 + size] as frame:
                self.frames.append(pickle.loads(frame))
            start += 4 + size
        del buffer[:start]
        return True

    def next(self, timeout: float) -> Any:
        """The next frame, within ``timeout`` seconds (the worker's start)."""
        deadline = time.monotonic() + timeout
        while not self.frames:
            if not self._take_in(deadline - time.monotonic()) and time.monotonic() >= deadline:
                raise TimeoutError
        return self.frames.popleft()

    def answers(self, budget: float, answered: int) -> list[Reading]:
        """The next frame of answers (``answered`` of this frame came already). Raises
        ``_Overrun`` once the worker has spent ``budget`` seconds on one message, or has
        stopped."""
        while not self.frames:
            word = self.progress[0]
            place, since = word & _PLACE_MASK, (word >> _PLACE_BITS) / 1000
            # on a message: until it has had its budget; between messages (sending to us, or
            # taking a frame in), a whole budget of silence
            wait = since + budget - time.monotonic() if place else budget
            try:
                if self._take_in(wait):
                    continue
            except (OSError, EOFError) as exc:  # it died: on the message it was reading, if any
                place = self.progress[0] & _PLACE_MASK
                raise _Overrun(place - 1 if place else answered, str(exc)) from exc
            # the clock before the word: still on the message after its budget was up, it overran
            elapsed = time.monotonic() - since
            if self.progress[0] != word:
                continue  # it moved on meanwhile
            if not place:  # no answer and no progress for a whole budget: a stopped process
                raise _Overrun(answered)
            if elapsed >= budget:
                raise _Overrun(place - 1)
        return self.frames.popleft()


class MessageWorker:
    """One worker process (a plain ``python -m``: no fork of the engine's threads, nothing of the
    terminal's), used by one thread at a time. Only this worker's own pickles cross its pipes."""

    def __init__(self, budget: float, flush_every: float = FLUSH_EVERY) -> None:
        self.budget = budget
        self.flush_every = flush_every
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: _Answers | None = None
        self._context: tuple[Any, ...] | None = None
        self._sent_context: tuple[Any, ...] | None = None
        self.overruns = 0
        self.closed = False
        """Closed with the engine: no new worker is started for what is still being read."""

    def _start(self) -> tuple[subprocess.Popen[bytes], _Answers]:
        if self.closed:
            raise RuntimeError("the parse worker is closed (the engine is stopping)")
        # the worker imports this very replydesk, wherever the engine found it
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        with _progress_file() as file:
            file.truncate(8)
            shared = mmap.mmap(file.fileno(), 8)
            try:
                proc = subprocess.Popen([sys.executable, "-m", "app.imap.parsework", str(file.fileno()),
                                         repr(self.flush_every)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, close_fds=True, pass_fds=(file.fileno(),),
                                        env={**os.environ, "PYTHONPATH": path})
            except BaseException:
                shared.close()
                raise
        assert proc.stdin is not None and proc.stdout is not None
        for pipe in (proc.stdin, proc.stdout):
            _widen(pipe.fileno())
        answers = _Answers(proc, shared)
        self._proc, self._answers, self._sent_context = proc, answers, None
        try:
            ready = answers.next(START_TIMEOUT)
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError):
            ready = None
        if ready != "ready":
            self.kill()
            raise RuntimeError("the parse worker did not start")
        return proc, answers

    def set_context(self, noise: NoiseContext | None, rules: Rules | None,
                    examples: tuple[tuple[str, str], ...]) -> None:
        self._context = (noise, rules, examples)

    def read(self, raw: bytes, direction: str) -> Reading:
        return self.read_many([raw], direction)[0]

    def read_many(self, raws: list[bytes], direction: str) -> list[Reading]:
        """Each message parsed (and classified, ``direction == "in"``), in order; one that is not
        read within the budget is kept with its headers and the rest go to a new worker."""
        out: list[Reading | None] = [None] * len(raws)
        todo = list(range(len(raws)))
        while todo:
            frame = _frame(raws, todo)
            readings, failed = self._read_frame([raws[i] for i in frame], direction)
            for i, reading in zip(frame, readings, strict=False):
                out[i] = reading
            if failed is None:
                todo = todo[len(frame):]
            else:  # those read but not sent yet by the worker that was killed: again
                out[frame[failed]] = headers_only(raws[frame[failed]], self.budget, direction)
                todo = frame[len(readings):failed] + todo[failed + 1:]
        return out  # type: ignore[return-value]  # every place filled

    def _read_frame(self, raws: list[bytes], direction: str) -> tuple[list[Reading], int | None]:
        """The answers for a prefix of ``raws``: all of them, or those that came before the
        worker was killed, with the place of the message it was killed on."""
        if self._proc is not None and self._answers is not None and self._proc.poll() is None:
            proc, answers = self._proc, self._answers
        else:
            self.kill()
            proc, answers = self._start()
        assert proc.stdin is not None
        out: list[Reading] = []
        try:
            if self._sent_context != self._context and self._context is not None:
                _send(proc.stdin, ("context", *self._context))
                self._sent_context = self._context
            _send(proc.stdin, ("read", raws, direction))
            while len(out) < len(raws):
                for parsed, result in answers.answers(self.budget, len(out)):
                    parsed.raw = raws[len(out)]
                    out.append((parsed, result))
        except _Overrun as exc:
            failed = exc.place
            if exc.died:
                log.warning("the parse worker stopped (%s): the message is stored with its headers", exc.died)
            else:
                self.overruns += 1
                log.warning("a message took longer than %.0f s to read: stored with its headers, not classified",
                            self.budget)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:  # the worker died (or was
            # closed under this thread: its shared word is gone): say so, go on
            failed = len(out)
            log.warning("the parse worker stopped (%s): the message is stored with its headers", exc)
        else:
            return out, None
        self.kill()
        return out, failed

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        answers, self._answers = self._answers, None
        if proc is not None:
            proc.kill()
            proc.wait(5)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        if answers is not None:
            answers.close()

    def close(self) -> None:
        """For good: a thread still reading gets an error instead of a new worker."""
        self.closed = True
        self.kill()


def _widen(fd: int) -> None:
    """A pipe that holds a whole batch (Linux): the engine's thread sends it in one write that does
    not wait for the worker, and takes the answers in one read, so it waits its turn for the
    interpreter (the event loop's thread has it meanwhile) once, not once per 64 KB."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # over the system's limit (fs.pipe-max-size): the default will do
            pass


def _progress_file() -> IO[bytes]:
    """Where the progress word lives: memory only, where the system has a call for it."""
    if hasattr(os, "memfd_create"):
        try:
            return os.fdopen(os.memfd_create("replydesk-parse-progress"), "w+b")
        except OSError:  # a kernel or sandbox without it
            pass
    return tempfile.TemporaryFile()


def _frame(raws: list[bytes], todo: list[int]) -> list[int]:
    """The first of ``todo`` (places in ``raws``) up to ``FRAME_BYTES`` (at least one message)."""
    end, size = 0, 0
    while end < len(todo) and end < FRAME_MESSAGES and (end == 0 or size + len(raws[todo[end]]) <= FRAME_BYTES):
        size += len(raws[todo[end]])
        end += 1
    return todo[:end]


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
    _serve(int(sys.argv[1]), float(sys.argv[2]))
