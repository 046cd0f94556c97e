"""aioimaplib's protocol with its traps fixed in place, for ``ImapConnection``.

- It handles the lines of one read by recursion, copying the rest of the read at each line: a
  read with thousands of short lines (a flag fetch of a big folder) overflows the stack, and a
  first sync's reads (a few hundred lines each) cost a copy of the read per line. The lines are
  taken here in a loop over offsets into the read, the same steps in the same order.
- It drops untagged EXISTS / EXPUNGE / FETCH outside IDLE and never reports BYE: they are noted
  here as they arrive, so a message that lands between a sync and the next IDLE is not missed
  and a closing server is seen at once.
- It removes every ``* `` from an untagged line, not only the leading one: a server that lists
  ``\\*`` first in PERMANENTFLAGS (``(\\* \\Draft …)``) loses the keyword marker, and with it the
  labels. Only the leading ``* `` is taken off here.
- AUTHENTICATE never answers the server's challenges: ``SaslCommand`` does.
- FETCH re-reads every line of the response so far for each new line, to tell whether the
  current item's parentheses are closed: quadratic in the batch. ``FetchCommand`` keeps the
  count as lines arrive.
- It knows no NOTIFY (RFC 5465): the command is registered here, and the ``* STATUS`` lines a
  server sends unasked for the folders it watches are noted (``announced``) as they arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aioimaplib
from aioimaplib.aioimaplib import (
    AUTH,
    CONNECTED,
    CRLF,
    SELECTED,
    Cmd,
    Command,
    Commands,
    Exec,
    IncompleteRead,
    literal_data_re,
    message_data_re,
    tagged_status_response_re,
)

from app.imap.responses import status_items, status_mailbox

ANY_FOLDER = "*"
"""In ``announced``: a folder changed whose name could not be read (a literal); look at all."""
CHANGED = "CHANGED"
"""In a folder's ``announced`` items: it changed, what it holds now is not known."""

# NOTIFY SET answers with a tagged OK; what it enables comes later as untagged STATUS / EXISTS
Commands.setdefault("NOTIFY", Cmd("NOTIFY", (AUTH, SELECTED), Exec.is_sync))


@dataclass
class Changes:
    exists: bool = False
    expunge: bool = False
    flags: bool = False

    def __bool__(self) -> bool:
        return self.exists or self.expunge or self.flags


class ImapProtocol(aioimaplib.IMAP4ClientProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, lost: asyncio.Future) -> None:
        super().__init__(loop, self._lost_cb)
        self.incomplete_line: bytes = b""
        self.current_command: Command | None = None
        self._lost = lost
        self.last_data = loop.time()
        self.activity = asyncio.Event()
        self.changes = Changes()
        self.bye: str | None = None
        self.greeted = asyncio.Event()
        self.greeting_error: Exception | None = None
        self.announced: dict[str, dict[str, int]] = {}
        """Folders a ``* STATUS`` line (NOTIFY) said changed, with the items it gave (``MESSAGES``,
        ``UIDNEXT``…); or ``CHANGED``: news came while it was selected and it was left unread."""
        self.notify_overflow = False
        """The server stopped NOTIFY's events (``[NOTIFICATIONOVERFLOW]``): poll again."""
        self._idle_after: tuple[str, Command] | None = None
        """The tag of a command sent with DONE (``done_then``), and the IDLE sent after it."""
        self._idle_taken: Command | None = None
        """The IDLE the server last answered with its continuation."""
        self._idle_taken_event = asyncio.Event()

    def _lost_cb(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(exc)
        self.activity.set()

    def data_received(self, d: bytes) -> None:
        """aioimaplib's, without its debug line: it formats every read (up to 16 KiB of bytes
        as their repr) whether or not debug logging is on."""
        self.last_data = self.loop.time()
        try:
            self._handle_responses(self.incomplete_line + d, self._handle_line, self.current_command)
            self.incomplete_line = b""
            self.current_command = None
        except IncompleteRead as incomplete:
            self.current_command = incomplete.cmd
            self.incomplete_line = incomplete.data

    def _handle_responses(self, data: bytes, line_handler: Callable[[bytes, Command | None], Command | None],
                          current_cmd: Command | None = None) -> None:
        """aioimaplib's, as a loop: the literal at the start of what is left, else its first line
        to ``line_handler``, until the read is used up (``IncompleteRead`` with what is left of a
        line, or the command whose literal or item is still open)."""
        view = memoryview(data)
        pos, end = 0, len(data)
        while True:
            if pos >= end:
                if self.pending_sync_command is not None:
                    self.pending_sync_command.flush()
                if current_cmd is not None and current_cmd.wait_data():
                    raise IncompleteRead(current_cmd)
                return
            if current_cmd is not None and current_cmd.wait_literal_data():
                # it takes what it still needs and returns the rest: a view, so nothing is copied
                pos = end - len(current_cmd.append_literal_data(view[pos:]))
                if current_cmd.wait_literal_data():
                    raise IncompleteRead(current_cmd)
            eol = data.find(CRLF, pos)
            if eol < 0:
                raise IncompleteRead(current_cmd, data[pos:])
            line = data[pos:eol]
            pos = eol + 2
            cmd = line_handler(line, current_cmd)
            literal = literal_data_re.match(line) if line.endswith(b"}") else None
            if literal is not None:
                if cmd is None:
                    cmd = Command("NIL", "unused")
                cmd.begin_literal_data(int(literal.group("size")))
                current_cmd = cmd
            elif cmd is not None and cmd.wait_data():
                current_cmd = cmd
            else:
                current_cmd = None

    def _handle_line(self, line: bytes, current_cmd: Command | None) -> Command | None:
        """aioimaplib's; a line no answer has (neither untagged, nor tagged, nor a continuation,
        nor part of an open response) goes with a pending FETCH's answer, which then reads as
        garbled (``responses.parse_fetch``), where aioimaplib only logged it: the rest of a
        message whose literal took in a line the server wrote inside it (Dovecot's NOTIFY)."""
        if (line and current_cmd is None and self.state != CONNECTED and not line.startswith((b"*", b"+"))
                and tagged_status_response_re.match(line) is None):
            fetch = self.pending_async_commands.get("FETCH")
            if fetch is not None:
                Command.append_to_resp(fetch, line)  # (not counted as FETCH items: not ours)
                return None
        return super()._handle_line(line, current_cmd)

    def _untagged_response(self, line: bytes) -> aioimaplib.Command | None:
        body = line[2:] if line.startswith(b"* ") else line
        if body.startswith(b"BYE"):
            self.bye = body[4:].decode("utf-8", "replace").strip() or "BYE"
            self.activity.set()
        elif body.startswith(b"STATUS "):
            self.announced.setdefault(status_mailbox(body) or ANY_FOLDER, {}).update(status_items(body))
            self.activity.set()
        elif body.startswith(b"OK [NOTIFICATIONOVERFLOW]"):
            self.notify_overflow = True
            self.activity.set()
        else:
            parts = body.split(b" ", 2)
            if len(parts) >= 2 and parts[0].isdigit():
                kind = parts[1].upper()
                if kind == b"EXISTS":
                    self.changes.exists = True
                    self.activity.set()
                elif kind == b"EXPUNGE":
                    self.changes.expunge = True
                    self.activity.set()
                elif kind == b"FETCH" and "FETCH" not in self.pending_async_commands:
                    # not an answer to our FETCH/STORE: another client changed flags
                    self.changes.flags = True
                    self.activity.set()
        return self._dispatch_untagged(body)

    def _dispatch_untagged(self, line: bytes) -> aioimaplib.Command | None:
        """aioimaplib's ``_untagged_response`` on a line whose leading ``* `` is already gone."""
        if self.pending_sync_command is not None:
            self.pending_sync_command.append_to_resp(line)
            return self.pending_sync_command
        match = message_data_re.match(line)
        if match:
            cmd_name, text = match.group(1), match.string
        else:
            cmd_name, _, text = line.partition(b" ")
        name = cmd_name.decode().upper()
        command = self.pending_async_commands.get(name)
        if command is None and name == "STATUS":
            command = self.pending_async_commands.get("LIST")  # LIST ... RETURN (STATUS ...)
            text = line  # told apart from the LIST lines by its word
        if command is not None:
            command.append_to_resp(text)
            return command
        # NOOP is async: it collects what the server says unasked
        command = self.pending_async_commands.get("NOOP")
        if command is not None:
            command.append_to_resp(line)
        return command

    def done_then(self, command: Command, idle_again: Command | None = None) -> bool:
        """End IDLE and send ``command`` in the same write: DONE, then a command aioimaplib lets
        run beside others (LIST, STATUS), registered now as it would be when sent on its own. The
        server closes IDLE with its tagged answer before it reads the next line, so every line
        of the command's answer comes once IDLE has closed, and goes to it. ``idle_again``: an
        IDLE sent after it in the same write, the command aioimaplib waits on from the moment
        ``command`` is answered (its continuation then reads as IDLE's). False (nothing sent)
        when no IDLE is on, or a command of that kind is waiting for its answer."""
        if (not self.has_pending_idle_command() or self.transport is None
                or Commands.get(command.name).exec != Exec.is_async
                or command.untagged_resp_name in self.pending_async_commands):
            return False
        self.pending_async_commands[command.untagged_resp_name] = command
        data = b"DONE" + CRLF + str(command).encode() + CRLF
        if idle_again is not None:
            self._idle_after = (command.tag, idle_again)
            data += str(idle_again).encode() + CRLF
        self.transport.write(data)
        return True

    def _response_done(self, line: bytes) -> None:
        super()._response_done(line)
        after = self._idle_after
        if after is not None and line.partition(b" ")[0].decode() == after[0]:
            self._idle_after = None
            self.pending_sync_command = after[1]

    def new_idle(self) -> Command:
        """An IDLE command, not sent (``idle_command``, or after a look: ``done_then``)."""
        return aioimaplib.IdleCommand(self.new_tag(), self.idle_queue, loop=self.loop)

    async def idle_command(self, command: Command) -> aioimaplib.Response:
        """aioimaplib's ``idle`` with an IDLE command the caller made: ``taken_up`` waits for its
        own continuation (aioimaplib's one event for all of them may be cleared by an IDLE
        that ended as the next one began)."""
        if "IDLE" not in self.capabilities:
            raise aioimaplib.Abort("server has not IDLE capability")
        return await self.execute(command)

    def _continuation(self, line: bytes) -> None:
        super()._continuation(line)
        command = self.pending_sync_command
        if command is not None and command.name == "IDLE":
            self._idle_taken = command
            self._idle_taken_event.set()

    async def taken_up(self, command: Command) -> None:
        """Until the server has answered IDLE ``command`` with its continuation: it idles."""
        while self._idle_taken is not command:
            self._idle_taken_event.clear()
            await self._idle_taken_event.wait()

    async def fetch(self, message_set: str, message_parts: str, by_uid: bool = False,
                    timeout: float | None = None) -> aioimaplib.Response:
        return await self.execute(FetchCommand(self.new_tag(), message_set, message_parts,
                                               prefix="UID" if by_uid else "", loop=self.loop, timeout=timeout))

    async def welcome(self, command: bytes) -> None:
        try:
            await super().welcome(command)
        except Exception as exc:  # a BYE greeting, or no IMAP4rev1: reported by ImapConnection
            self.greeting_error = exc
        finally:
            self.greeted.set()


class FetchCommand(aioimaplib.FetchCommand):
    """aioimaplib's FETCH with its answer to "is this item still open?" kept up to date line by
    line: the parentheses of the text lines since the last ``n FETCH (`` (literals aside), the
    same count aioimaplib takes over all of them again for every line."""

    def __init__(self, *args: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._open = 0

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        super().append_to_resp(line, result)
        if isinstance(line, bytes):
            depth = line.count(b"(") - line.count(b")")
            self._open = depth if self.FETCH_MESSAGE_DATA_RE.match(line) else self._open + depth

    def wait_data(self) -> bool:
        return self._open != 0


class SaslCommand(aioimaplib.Command):
    """AUTHENTICATE that answers challenges: the initial response if the server had no SASL-IR,
    then an empty line (RFC 7628: after an error challenge, to get the tagged NO)."""

    def __init__(self, proto: ImapProtocol, mechanism: str, initial: str, send_initial: bool) -> None:
        args = (mechanism, initial) if send_initial else (mechanism,)
        super().__init__("AUTHENTICATE", proto.new_tag(), *args, loop=proto.loop)
        self._proto = proto
        self._answers = [b""] if send_initial else [initial.encode(), b""]
        self._challenged = False

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        if result == "Pending" and isinstance(line, bytes) and line.startswith(b"+"):
            self._challenged = True
        super().append_to_resp(line, result)

    def flush(self) -> None:
        if self._challenged and self._proto.transport is not None:
            self._challenged = False
            answer = self._answers.pop(0) if self._answers else b""
            self._proto.transport.write(answer + b"\r\n")
