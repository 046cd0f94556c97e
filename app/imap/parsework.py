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
and a pickle per message. The worker parses a run of a frame's messages, then classifies them
(``READ_TOGETHER``): each step's code stays in the processor's caches. The budget does not depend
on when answers arrive: before it starts a message, in either step, the worker notes which one and
since when (less what its parse took, in the second) in a word of memory it shares with the engine
(its *progress*), so the engine, when no answer comes, knows the message that overran and since
when, and kills the worker only once that message has had its whole budget. Answers the dead
worker had not sent yet are read again by the next worker; the one that overran is kept with its
headers.

Starting a worker costs about a third of a second of CPU (Python, the imports, the classifier's
patterns built): at a first sync on two cores that is as much as reading a thousand replies, and
every worker replaced after an overrun paid it again. Where the system can (Linux: a process
descriptor to watch and kill a process that is not our child), a pool's workers are forked from
a *fork server*: one more process, started plainly, that warms up once and forks a worker ready
to read in a few milliseconds, sharing the warmed memory with it. Where it cannot start, workers
are started plainly, as ever. Either process starts through app.imap.parsestart, which puts the
regular expressions the fork server compiled last time in place first (app.mail.regex_cache):
its warm-up then takes about a tenth of a second less, and the first sync starts reading sooner.
"""

from __future__ import annotations

import email.message
import email.parser
import fcntl
import gc
import logging
import math
import mmap
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any

from app import cachefiles, selfrun
from app.collector import fewer_collections
from app.imap.parsestart import kept_patterns
from app.mail import NoiseContext, classify, parse, regex_cache
from app.mail.classify import warm_up
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
FLUSH_EVERY = 0.02
"""Seconds an answer may wait in the worker before it is sent (it goes with the ones after it; the
last of a frame goes at once). A batch of short replies is read in about 35 ms: at 20 ms its answers
come back in two writes, not seven, each waking the engine's reading thread, which then waits its
turn for the interpreter. A first sync of 10,000 short replies against 5 ms: 1.245 -> 1.183 s with
one worker, 1.240 -> 1.224 s with two (medians of 7 alternating pairs). The engine stores a batch
once all of it is read: nothing there waits for the answers held back."""
READ_TOGETHER = 100
"""Messages of a frame the worker parses one after another before it classifies them: each step's
code and tables stay in the processor's caches through a run of messages instead of being pushed
out by the other's at every message. Replies of new wording, read alone in one process (compiled):
126 us a reply one by one, 115 in runs of 32, 112 in runs of 100, 114 in runs of 400; a first sync
of 10,000 of them, runs of 100 against none, 6-8 % shorter with 2 workers or 1 (bench/README,
a fifteenth look). The progress word names the message in both steps; in the second its time
starts back by what its parse took, so its budget covers both, as when it was read in one go."""
READ_TOGETHER_BYTES = 1 << 20
"""Message bytes in one such run at most: big mail gains nothing from it, and its readings wait."""
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


def _progress(place: int, since: float | None = None) -> int:
    """The progress word: on message ``place`` (0: none) since ``since`` (monotonic; now)."""
    return math.ceil((time.monotonic() if since is None else since) * 1000) << _PLACE_BITS | place


def _serve(progress_fd: int, flush_every: float, warm: bool = True) -> None:
    """The worker (``python -m app.imap.parsestart FD SECONDS``): frames on stdin, answers on
    stdout, its progress in the shared word on ``FD``. ``warm``: build the classifier's patterns
    first (not in a worker forked from the warm fork server)."""
    noise: NoiseContext | None = None
    rules: Rules | None = None
    learned = None
    out = sys.stdout.buffer
    fewer_collections()  # a frame's answers are freed whole once sent
    shared = mmap.mmap(progress_fd, 8)
    progress = memoryview(shared).cast("Q")  # one aligned 8-byte store: the engine never sees half
    keep = False
    if warm:
        warm_up()  # while the engine logs in: the first batch is read at full speed
        keep = regex_cache.finish()
    _send(out, "ready")
    if keep:  # (where no fork server runs: a system without process descriptors)
        _keep_patterns()
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
        for places in read_runs(raws):
            read = []
            spent = []  # each message's parse, counted again in its classify step
            for place in places:
                started = time.monotonic()
                progress[0] = _progress(place + 1, started)
                read.append(parse(raws[place]))
                spent.append(time.monotonic() - started)
            for place, parsed, parsing in zip(places, read, spent):
                if answers and time.monotonic() - oldest >= flush_every:
                    progress[0] = _progress(0)
                    _send(out, answers)
                    answers = []
                progress[0] = _progress(place + 1, time.monotonic() - parsing)
                result = classify(parsed, rules, context=noise, examples=learned) if direction == "in" else None
                _for_the_engine(parsed, result)
                if not answers:
                    oldest = time.monotonic()
                answers.append((parsed, result))
        progress[0] = _progress(0)
        _send(out, answers)


def read_runs(raws: list[bytes]) -> list[range]:
    """The places of ``raws`` in runs of up to ``READ_TOGETHER`` messages and
    ``READ_TOGETHER_BYTES`` bytes (a message larger than that in a run of its own)."""
    runs = []
    first = size = 0
    for place, raw in enumerate(raws):
        if place > first and (place - first == READ_TOGETHER or size + len(raw) > READ_TOGETHER_BYTES):
            runs.append(range(first, place))
            first, size = place, 0
        size += len(raw)
    if first < len(raws):
        runs.append(range(first, len(raws)))
    return runs


def _for_the_engine(parsed: ParsedMessage, result: Classification | None) -> None:
    """A reading as it goes back to the engine: what the engine stores, and for a bounce what it
    reads again (its recipients confirmed by the Sent folder). The rest, read here only, would
    cross the pipe for nothing: the message's bytes (the engine has them), the quoted history
    (already in ``text``), the MIME structure, and but for a bounce the headers."""
    parsed.raw = b""
    parsed.library_tree = None
    parsed.quoted_text = ""
    parsed.structure = ""
    if result is None or result.kind != "bounce":
        parsed.headers = {}


def _fork_server(sock_fd: int) -> None:
    """The fork server (``python -m app.imap.parsestart fork FD``): warmed up once, it forks a
    worker for each request on the socket ``FD``, which brings the worker's stdin, stdout and
    progress descriptors, and answers with the new worker's process descriptor. It ends when the
    engine closes its end of the socket."""
    sock = socket.socket(fileno=sock_fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine ends it (Ctrl-C reaches the workers)
    warm_up()
    keep = regex_cache.finish()
    # what is made so far lives as long as the process: kept out of the collector's walks, its
    # memory stays shared with the workers instead of being copied into each
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps each worker when it ends
    sock.sendall(b"K" if regex_cache.taken() else b"R")  # ready (K: from the kept expressions)
    if keep:
        _keep_patterns(sock)
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(sock, 64, 3)
        except OSError:
            return
        if not request or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if not request:
                return
            sock.sendall(b"E")
            continue
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                os.close(fds[0])
                os.close(fds[1])
                _serve(fds[2], float(request), warm=False)
                code = 0
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        try:
            # opened before the worker can end: it waits for its first frame, which comes after this
            pidfd = os.pidfd_open(pid)
        except OSError:
            sock.sendall(b"E")
            continue
        try:
            socket.send_fds(sock, [b"P"], [pidfd])
        finally:
            os.close(pidfd)


def _keep_patterns(sock: socket.socket | None = None) -> None:
    """What this start compiled, kept for the next one (app.mail.regex_cache): written by a
    process of low priority, so this one goes on (forking workers, or reading mail) meanwhile. It
    is forked through a go-between that ends at once, so nobody has to wait for it, and it lets go
    of the engine's socket or pipes first: the engine sees those end with this process."""
    try:
        pid = os.fork()
    except (OSError, AttributeError):  # (no fork on this system)
        return
    if pid == 0:
        try:
            if os.fork() == 0:
                if sock is not None:
                    sock.close()
                os.close(0)
                os.close(1)
                try:
                    os.nice(10)
                except OSError:
                    pass
                path = kept_patterns()
                if cachefiles.write_own(path, regex_cache.snapshot()):
                    cachefiles.prune(path.parent, "patterns-*.bin", keep=4)
        finally:
            os._exit(0)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # (the fork server's children are reaped by the system)
        pass


def _send(stream: IO[bytes], obj: object) -> None:
    _write(stream, _pickled(obj))


def _pickled(obj: object) -> bytes:
    """``obj`` as it crosses a pipe: its pickle, after its length."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!I", len(data)) + data


def _write(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
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

    def __init__(self, proc: _Process, shared: mmap.mmap, wake: int | None = None) -> None:
        assert proc.stdout is not None
        # Read the pipe itself, never through a buffer, all that is there at once: a buffered
        # read would hide answers from poll, which sees only the pipe. poll, not select: an
        # engine with a thousand connections has descriptors past select's limit (FD_SETSIZE,
        # 1024), and the pipe gets one of them.
        self.fd = proc.stdout.fileno()
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)
        self.wake = wake
        self.woken_poller = select.poll()
        """The pipe and ``wake``: polled while the worker has room for another frame."""
        self.woken_poller.register(self.fd, select.POLLIN)
        if wake is not None:
            self.woken_poller.register(wake, select.POLLIN)
        self.shared = shared
        self.progress = memoryview(shared).cast("Q")
        self.buffer = bytearray()
        self.frames: deque[Any] = deque()

    def close(self) -> None:
        self.progress.release()
        self.shared.close()

    def _take_in(self, timeout: float, wakeable: bool = False) -> bool | None:
        """Whatever the pipe holds, decoded into ``frames``; False when nothing came in ``timeout``,
        None when (``wakeable``) the wake descriptor was written to first."""
        poller = self.woken_poller if wakeable and self.wake is not None else self.poller
        ready = poller.poll(max(0, math.ceil(timeout * 1000)))
        if not ready:
            return False
        if all(fd != self.fd for fd, _ in ready):
            _drain(self.wake)
            return None
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

    def answers(self, budget: float, answered: int, wakeable: bool = False) -> list[Reading] | None:
        """The next frame of answers (``answered`` of this frame came already); None if
        (``wakeable``) woken first. Raises ``_Overrun`` once the worker has spent ``budget``
        seconds on one message, or has stopped."""
        while not self.frames:
            word = self.progress[0]
            place, since = word & _PLACE_MASK, (word >> _PLACE_BITS) / 1000
            # on a message: until it has had its budget; between messages (sending to us, or
            # taking a frame in), a whole budget of silence
            wait = since + budget - time.monotonic() if place else budget
            try:
                took = self._take_in(wait, wakeable)
                if took is None:
                    return None
                if took:
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


LOOKAHEAD = 2
"""Frames sent to a worker before the answers to the first are in: it starts the next as soon as
one ends, instead of waiting for the engine's thread to read the answers and send more (that
thread waits its turn at the interpreter behind the event loop and the store)."""


class Job:
    """A batch to read: its messages, the places not sent to a worker yet, and what is read."""

    def __init__(self, raws: list[bytes], direction: str, context: tuple[Any, ...] | None,
                 done: Callable[[Job], None] | None = None) -> None:
        self.raws = raws
        self.direction = direction
        self.context = context
        self.todo: list[int] = list(range(len(raws)))
        self.out: list[Reading | None] = [None] * len(raws)
        self.left = len(raws)
        self.error: BaseException | None = None
        self.done = done
        """Called (in the reading thread) once every message is read, or ``error`` is set."""

    def finish(self) -> None:
        if self.done is not None:
            self.done(self)

    @property
    def readings(self) -> list[Reading]:
        if self.error is not None:
            raise self.error
        return self.out  # type: ignore[return-value]  # every place filled


class _Sent:
    """A frame in the worker's pipe: the places of ``job`` it holds, and how many are answered;
    ``size``: the bytes written for it."""

    def __init__(self, job: Job, places: list[int], size: int) -> None:
        self.job = job
        self.places = places
        self.answered = 0
        self.size = size


class _Forked:
    """A worker forked by the fork server, with what the worker uses of ``subprocess.Popen``. It
    is the fork server's child, not ours: its end is read from its process descriptor."""

    def __init__(self, pidfd: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self._pidfd = pidfd
        self._poller = select.poll()
        self._poller.register(pidfd, select.POLLIN)  # readable once the process has ended
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        """-1 once it has ended (its exit status is the fork server's to know)."""

    def _ended(self, timeout: float) -> bool:
        if self.returncode is None:
            if not self._poller.poll(max(0, math.ceil(timeout * 1000))):
                return False
            self.returncode = -1
            os.close(self._pidfd)
        return True

    def poll(self) -> int | None:
        self._ended(0)
        return self.returncode

    def wait(self, timeout: float) -> int:
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired("parse worker", timeout)
        return -1

    def kill(self) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:  # ended already
                pass

    def __del__(self) -> None:
        if self.returncode is None:
            try:
                os.close(self._pidfd)
            except OSError:
                pass


_Process = subprocess.Popen[bytes] | _Forked


FORKABLE = (hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal") and hasattr(socket, "send_fds")
            and hasattr(os, "fork"))
"""Whether workers can be forked from a fork server here (Linux 5.3+: process descriptors)."""


class ForkServer:
    """Where a pool's workers are forked from (see the module's docstring): started with the
    first worker, closed with the pool. The pool's threads share it (one fork at a time);
    ``fork`` answers None where no worker can be forked, and the caller starts one plainly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.failed = not FORKABLE
        """It could not start (or this system cannot fork workers for us): workers start plainly."""
        self.from_kept = False
        """Whether its last start took the regular expressions an earlier one kept (app.mail.regex_cache)."""
        self.closed = False

    def fork(self, stdin: int, stdout: int, progress: int, flush_every: float) -> int | None:
        """A new worker reading frames from ``stdin`` and answering on ``stdout`` (descriptors
        of pipes, ``progress`` that of its progress word): its process descriptor, or None."""
        with self._lock:
            if self.failed or self.closed:
                return None
            if self._sock is None:
                try:
                    self._start()
                except (OSError, RuntimeError) as exc:
                    self.failed = True
                    if not self.closed:  # closed with the pool while it started: nothing to say
                        log.warning("the parse workers' fork server did not start (%s): workers start one "
                                    "by one, each taking a third of a second of CPU", exc)
                    return None
            assert self._sock is not None
            try:
                socket.send_fds(self._sock, [repr(flush_every).encode()], [stdin, stdout, progress])
                answer, fds, _, _ = socket.recv_fds(self._sock, 1, 1)
            except OSError as exc:
                answer, fds = str(exc).encode(), []
            if answer == b"P" and len(fds) == 1:
                return fds[0]
            for fd in fds:
                os.close(fd)
            if not self.closed:  # it ended (killed from outside?): the next worker starts a new one
                log.warning("the parse workers' fork server stopped (%s): starting another",
                            answer.decode(errors="replace") or "it closed its socket")
            self._stop()
            return None

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                selfrun.argv("app.imap.parsestart", "fork", str(theirs.fileno())),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                close_fds=True, pass_fds=(theirs.fileno(),), env=selfrun.env())
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock = ours
        ours.settimeout(START_TIMEOUT)
        try:
            ready = ours.recv(1)
        except OSError:
            ready = b""
        self.from_kept = ready == b"K"
        if ready not in (b"R", b"K"):
            self._stop()
            raise RuntimeError("it did not say it was ready")

    def _stop(self) -> None:
        sock, self._sock = self._sock, None
        proc, self._proc = self._proc, None
        if sock is not None:
            sock.close()  # it ends when it reads the end of its socket
        if proc is not None:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """For good (with the pool); its workers live on until their own pipes close."""
        self.closed = True
        sock = self._sock
        if sock is not None:
            try:  # a thread waiting on it for a worker hears at once
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._lock:
            self._stop()


def _forked(server: ForkServer, progress: int, flush_every: float) -> _Forked | None:
    """A worker from ``server`` with new pipes, or None."""
    their_in, our_in = os.pipe()
    our_out, their_out = os.pipe()
    for fd in (our_in, our_out):
        _widen(fd)
    try:
        pidfd = server.fork(their_in, their_out, progress, flush_every)
    finally:
        os.close(their_in)
        os.close(their_out)
    if pidfd is None:
        os.close(our_in)
        os.close(our_out)
        return None
    return _Forked(pidfd, open(our_in, "wb"), open(our_out, "rb"))


class MessageWorker:
    """One worker process (a plain ``python -m``, or forked from the pool's fork server, itself
    one: no fork of the engine's threads, nothing of the terminal's), used by one thread at a
    time. Only this worker's own pickles cross its pipes. Up to ``LOOKAHEAD`` frames are in its
    pipe at once (those behind the first no more than the pipe holds), so it goes from one batch
    to the next without waiting on the engine; the budget is the progress word's, per message, as
    ever."""

    def __init__(self, budget: float, flush_every: float = FLUSH_EVERY, wake: int | None = None,
                 forks: ForkServer | None = None) -> None:
        self.budget = budget
        self.forks = forks
        """Where its worker processes are forked from (a pool's); None: each is started plainly."""
        self.flush_every = flush_every
        self.wake = wake
        """A descriptor written to when there is a batch for this worker to take ahead (the pool's)."""
        self._proc: _Process | None = None
        self._answers: _Answers | None = None
        self._context: tuple[Any, ...] | None = None
        self._sent_context: tuple[Any, ...] | None = None
        self._jobs: deque[Job] = deque()
        """Jobs taken with places not sent yet, in order."""
        self._sent: deque[_Sent] = deque()
        """Frames in the pipe, in order (the worker answers them in that order)."""
        self._ready: _Process | None = None
        """The process that said it is ready."""
        self._pipe_bytes = 0
        """What the worker's input pipe holds (``_capacity``)."""
        self.overruns = 0
        self.closed = False
        """Closed with the engine: no new worker is started for what is still being read."""

    def _start(self) -> tuple[_Process, _Answers]:
        if self.closed:
            raise RuntimeError("the parse worker is closed (the engine is stopping)")
        with _progress_file() as file:
            file.truncate(8)
            shared = mmap.mmap(file.fileno(), 8)
            try:
                proc = self._spawn(file.fileno())
            except BaseException:
                shared.close()
                raise
        answers = _Answers(proc, shared, self.wake)
        self._proc, self._answers, self._sent_context = proc, answers, None
        assert proc.stdin is not None
        self._pipe_bytes = _capacity(proc.stdin.fileno())
        if self.closed:  # closed while it started
            self.kill()
            raise RuntimeError("the parse worker is closed (the engine is stopping)")
        try:
            ready = answers.next(START_TIMEOUT)
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError):
            ready = None
        if ready != "ready":
            self.kill()
            raise RuntimeError("the parse worker did not start")
        self._ready = proc
        return proc, answers

    def _spawn(self, progress: int) -> _Process:
        """A worker process: forked from the pool's fork server, else started plainly."""
        if self.forks is not None and (forked := _forked(self.forks, progress, self.flush_every)) is not None:
            return forked
        proc = subprocess.Popen(selfrun.argv("app.imap.parsestart", str(progress), repr(self.flush_every)),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                close_fds=True, pass_fds=(progress,), env=selfrun.env())
        assert proc.stdin is not None and proc.stdout is not None
        for pipe in (proc.stdin, proc.stdout):
            _widen(pipe.fileno())
        return proc

    def warm(self) -> None:
        """Start the worker process now, if none is running, so the first batch does not wait
        for Python to start and import the classifier. A worker that cannot start is only
        logged here: the next batch tries again and fails with the reason."""
        if self.closed or (self._proc is not None and self._proc.poll() is None):
            return
        try:
            self.kill()
            self._start()
        except (RuntimeError, OSError) as exc:
            if not self.closed:  # closed with the engine while it started: nothing to say
                log.warning("the parse worker did not start ahead of the mail: %s", exc)

    @property
    def ready(self) -> bool:
        """A worker process is up and has said it is ready to read."""
        proc = self._proc
        return proc is not None and proc is self._ready and proc.poll() is None

    def set_context(self, noise: NoiseContext | None, rules: Rules | None,
                    examples: tuple[tuple[str, str], ...]) -> None:
        self._context = (noise, rules, examples)

    def read(self, raw: bytes, direction: str) -> Reading:
        return self.read_many([raw], direction)[0]

    def read_many(self, raws: list[bytes], direction: str) -> list[Reading]:
        """Each message parsed (and classified, ``direction == "in"``), in order; one that is not
        read within the budget is kept with its headers and the rest go to a new worker."""
        job = self.take(raws, direction, self._context)
        while job.left and job.error is None:
            self.step()
        return job.readings

    def take(self, raws: list[bytes], direction: str, context: tuple[Any, ...] | None,
             done: Callable[[Job], None] | None = None) -> Job:
        """A batch for this worker, read as ``step`` is called (``done`` when it is)."""
        job = Job(raws, direction, context, done)
        if raws:
            self._jobs.append(job)
        else:
            job.finish()
        return job

    @property
    def busy(self) -> bool:
        """Something taken is not read yet."""
        return bool(self._sent or self._jobs)

    @property
    def has_room(self) -> bool:
        """Another batch taken now would be sent to the worker at once."""
        return not self._jobs and len(self._sent) < LOOKAHEAD

    def step(self) -> None:
        """Send what the pipe has room for, then take in the next answers; returns early when
        ``wake`` is written to while there is room for another frame. A job whose worker cannot
        be started (closed with the engine) ends with that error, with every other job taken."""
        try:
            self._send_ahead()
        except (RuntimeError, OSError, ValueError) as exc:
            self._fail_all(exc)
            return
        if not self._sent:
            return
        sent = self._sent[0]
        job = sent.job
        assert self._answers is not None
        try:
            got = self._answers.answers(self.budget, sent.answered, self.wake is not None and self.has_room)
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
            failed = sent.answered
            log.warning("the parse worker stopped (%s): the message is stored with its headers", exc)
        else:
            if got is None:
                return  # woken: room for another frame
            for parsed, result in got:
                place = sent.places[sent.answered]
                parsed.raw = job.raws[place]
                job.out[place] = (parsed, result)
                sent.answered += 1
                job.left -= 1
            if sent.answered == len(sent.places):
                self._sent.popleft()
            if not job.left:
                job.finish()
            return
        self.kill()
        place = sent.places[failed]
        job.out[place] = headers_only(job.raws[place], self.budget, job.direction)
        job.left -= 1
        # those read but not sent yet by the worker that was killed, and the frames behind: again
        sent.places = sent.places[sent.answered:failed] + sent.places[failed + 1:]
        sent.answered = 0
        again, self._sent = self._sent, deque()
        for frame in reversed(again):
            if frame.job.todo or frame.job in self._jobs:
                frame.job.todo[:0] = frame.places
            else:
                frame.job.todo = list(frame.places)
                self._jobs.appendleft(frame.job)
        if not job.left:
            job.finish()

    def _send_ahead(self) -> None:
        restarted = False
        while self._jobs and len(self._sent) < LOOKAHEAD:
            job = self._jobs[0]
            if not job.todo:
                self._jobs.popleft()
                continue
            if self._proc is not None and self._answers is not None and self._proc.poll() is None:
                proc = self._proc
            elif self._sent:
                return  # it died with frames in its pipe: the next answers tell, then they are sent again
            else:
                self.kill()
                proc, _ = self._start()
            assert proc.stdin is not None
            context = b""
            if self._sent_context != job.context and job.context is not None:
                context = _pickled(("context", *job.context))
            if self._sent:
                # Sent ahead, a frame waits in the pipe while the worker reads the one before and
                # writes its answers, which this thread takes in only after this write: all that
                # waits there must fit the pipe, or with the worker's answers filling the other
                # pipe each side would wait for the other for good (batches of big mail).
                room = self._pipe_bytes - sum(sent.size for sent in list(self._sent)[1:]) - len(context)
                places = _frame(job.raws, job.todo, room, at_least_one=False)
                if not places:
                    return  # sent once the worker is on the next frame
            else:
                places = _frame(job.raws, job.todo)
            try:
                frame = _pickled(("read", [job.raws[i] for i in places], job.direction))
                if context:
                    _write(proc.stdin, context)
                    self._sent_context = job.context
                _write(proc.stdin, frame)
            except OSError:
                if self._sent:
                    return  # the answers tell what happened to those in the pipe
                if restarted:
                    raise
                self.kill()  # it died between batches: once more with a new one
                restarted = True
                continue
            del job.todo[:len(places)]
            self._sent.append(_Sent(job, places, len(context) + len(frame)))
            if not job.todo:
                self._jobs.popleft()

    def _fail_all(self, exc: BaseException) -> None:
        jobs = list(dict.fromkeys([*(s.job for s in self._sent), *self._jobs]))
        self._sent.clear()
        self._jobs.clear()
        for job in jobs:
            job.error = exc
            job.finish()

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


def _drain(fd: int | None) -> None:
    """Empty a wake pipe (non-blocking)."""
    if fd is None:
        return
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _widen(fd: int) -> None:
    """A pipe that holds a batch of short replies whole (Linux, 1 MB): the engine's thread sends it
    in one write that does not wait for the worker, and takes the answers in one read, so it waits
    its turn for the interpreter (the event loop's thread has it meanwhile) once, not once per
    64 KB. A frame sent ahead never takes more than the room left (``_capacity``)."""
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


FRAME_OVERHEAD = 256
"""Bytes of a frame's pickle besides its messages' bytes, at most: its length, the tuple, the
direction, and ``MESSAGE_OVERHEAD`` a message."""
MESSAGE_OVERHEAD = 16


def _frame(raws: list[bytes], todo: list[int], most: int = FRAME_BYTES, at_least_one: bool = True) -> list[int]:
    """The first of ``todo`` (places in ``raws``) whose frame takes up to ``most`` bytes (and
    ``FRAME_BYTES``): at least one message where ``at_least_one``, else maybe none."""
    most = min(most, FRAME_BYTES) - FRAME_OVERHEAD
    end, size = 0, 0
    while end < len(todo) and end < FRAME_MESSAGES:
        size += len(raws[todo[end]]) + MESSAGE_OVERHEAD
        if size > most and (end or not at_least_one):
            break
        end += 1
    return todo[:end]


def _capacity(fd: int) -> int:
    """The bytes the pipe ``fd`` holds (Linux); elsewhere the least a system gives (macOS: 16 KiB)."""
    if hasattr(fcntl, "F_GETPIPE_SZ"):
        try:
            return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
        except OSError:
            pass
    return 16 * 1024


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


def main(args: list[str]) -> None:
    """A worker (``FD SECONDS``) or the fork server (``fork FD``), from app.imap.parsestart."""
    if args[0] == "fork":
        _fork_server(int(args[1]))
    else:
        _serve(int(args[0]), float(args[1]))
