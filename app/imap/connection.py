"""One IMAP connection: aioimaplib with its traps wrapped, once (../shared/reference/PITFALLS.md).

- STARTTLS, which aioimaplib lacks: sent through the protocol, then ``loop.start_tls`` on the
  same transport and CAPABILITY read again. Not offered → ``AccountConfigError``; never plaintext.
- A server that closes the link (``doveadm kick``, shutdown) leaves aioimaplib's futures pending
  forever: every wait here races the connection-lost future and a no-data deadline, and a dead
  link is aborted, never LOGOUT-awaited.
- SASL (AUTHENTICATE PLAIN / XOAUTH2) answers the server's challenge, so a rejected token ends
  in a prompt NO instead of a hang that looks like a network error.
- Capabilities are read again after login (tagged-OK capabilities parse into junk).
- The traps inside aioimaplib's protocol (recursion on big reads, dropped untagged responses)
  are fixed in ``protocol.py``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import errno
import logging
import ssl

import aioimaplib

from app.auth.credentials import credentials, invalidate, rejected
from app.auth.xoauth2 import xoauth2_string
from app.config import Account
from app.errors import AccountConfigError, NetworkError, ReplydeskError
from app.folders import Namespace
from app.imap import responses as r
from app.imap.protocol import ANY_FOLDER, CHANGED, Changes, ImapProtocol, SaslCommand
from app.tls import client_context, set_keepalive

COMMAND_TIMEOUT = 60.0
"""Seconds without any data from the server, during a command, before the link counts as dead."""
CONNECT_TIMEOUT = 30.0

WRONG_PORT_HINT = ("wrong port for the TLS mode? 993 is implicit TLS (security = \"tls\"), "
                   "143 is STARTTLS (security = \"starttls\")")


log = logging.getLogger(__name__)

FETCH_TRIES = 3
"""Answers to one FETCH read before a message whose part of the answer stays garbled gives up the
connection (``ImapConnection.uid_fetch``)."""

_open_per_account: dict[str, int] = {}
"""IMAP connections open in this process per account, against its ``max_connections``."""


class ImapNo(ReplydeskError):
    """The server answered NO or BAD to a command (the link itself is fine)."""


class ImapConnection:
    """A connected, authenticated IMAP session for one account. Single use: after any
    ``NetworkError`` it is aborted; make a new one."""

    def __init__(self, account: Account, *, timeout: float = COMMAND_TIMEOUT) -> None:
        self.account = account
        self.timeout = timeout
        self.capabilities: frozenset[str] = frozenset()
        self.selected: str | None = None
        self.select_info: r.SelectInfo | None = None
        self._loop = asyncio.get_running_loop()
        self._lost: asyncio.Future = self._loop.create_future()
        self.proto = ImapProtocol(self._loop, self._lost)
        self._counted = False
        self._looked: dict[str, dict[str, int]] | None = None
        self._idling: aioimaplib.Command | None = None
        """An IDLE sent with the last look (``idle``'s ``look``) and not ended: the next ``idle``
        goes on with it, and any other command ends it first (``_run``)."""

    # -- connecting ----------------------------------------------------------------------

    async def open(self) -> None:
        self._count_in()
        ep = self.account.imap
        ctx = client_context(ep.ca_file)
        implicit = ep.security == "tls"
        try:
            transport, _ = await asyncio.wait_for(self._loop.create_connection(
                lambda: self.proto, ep.host, ep.port, ssl=ctx if implicit else None,
                server_hostname=ep.host if implicit else None), CONNECT_TIMEOUT)
        except ssl.SSLCertVerificationError as exc:
            raise AccountConfigError(f"{ep.host}:{ep.port}: certificate not trusted: {exc.verify_message}",
                                     "set imap.ca_file to the server's CA certificate, or check imap.host"
                                     ) from None
        except ssl.SSLError as exc:
            if "WRONG_VERSION_NUMBER" in str(exc) or "record layer" in str(exc):
                raise AccountConfigError(f"{ep.host}:{ep.port}: no TLS on this port", WRONG_PORT_HINT) from None
            raise NetworkError(f"{ep.host}:{ep.port}: TLS handshake failed: {exc.reason or exc}") from None
        except TimeoutError:
            raise NetworkError(f"{ep.host}:{ep.port}: no connection within {CONNECT_TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise NetworkError(f"{ep.host}:{ep.port}: {exc.strerror or exc}") from None
        set_keepalive(transport.get_extra_info("socket"))
        await self._wait_greeting(implicit)
        if not implicit:
            await self._starttls(ctx)
        await self._login()
        await self._run(self.proto.capability(), "CAPABILITY")
        self.capabilities = frozenset(c.upper() for c in self.proto.capabilities)
        if "CONDSTORE" in self.capabilities and "ENABLE" in self.capabilities:
            await self._run(self.proto.simple_command("ENABLE", "CONDSTORE"), "ENABLE")

    async def _wait_greeting(self, implicit: bool) -> None:
        ep = self.account.imap
        try:
            await self._run(self.proto.greeted.wait(), "greeting", timeout=CONNECT_TIMEOUT)
        except NetworkError as exc:
            if not implicit and "no answer" in str(exc):
                raise NetworkError(str(exc), WRONG_PORT_HINT) from None
            raise
        err = self.proto.greeting_error
        if err is not None:
            text = str(err)
            if "IMAP4" in text:
                raise AccountConfigError(f"{ep.host}:{ep.port}: not an IMAP4rev1 server", WRONG_PORT_HINT)
            raise NetworkError(f"{ep.host}:{ep.port}: server refused the connection: {text[:200]}")
        if not implicit and self.proto.state == aioimaplib.AUTH:
            # PREAUTH over plaintext leaves no moment to start TLS
            self.abort()
            raise AccountConfigError(f"{ep.host}:{ep.port}: server pre-authenticated before STARTTLS",
                                     "use security = \"tls\" on port 993")

    async def _starttls(self, ctx: ssl.SSLContext) -> None:
        ep = self.account.imap
        if "STARTTLS" not in {c.upper() for c in self.proto.capabilities}:
            self.abort()
            raise AccountConfigError(f"{ep.host}:{ep.port}: server does not offer STARTTLS; refusing to "
                                     "log in without TLS", WRONG_PORT_HINT)
        resp = await self._run(self.proto.execute(
            aioimaplib.Command("STARTTLS", self.proto.new_tag(), loop=self._loop)), "STARTTLS")
        if resp.result != "OK":
            self.abort()
            raise AccountConfigError(f"{ep.host}:{ep.port}: STARTTLS refused: {_text(resp)}", WRONG_PORT_HINT)
        if self.proto.incomplete_line:
            # bytes sent after the OK before the handshake would be trusted as if encrypted
            self.abort()
            raise NetworkError(f"{ep.host}:{ep.port}: unexpected data after STARTTLS")
        try:
            tls = await asyncio.wait_for(self._loop.start_tls(
                self.proto.transport, self.proto, ctx, server_hostname=ep.host), CONNECT_TIMEOUT)
        except ssl.SSLCertVerificationError as exc:
            self.abort()
            raise AccountConfigError(f"{ep.host}:{ep.port}: certificate not trusted: {exc.verify_message}",
                                     "set imap.ca_file to the server's CA certificate") from None
        except (ssl.SSLError, OSError, TimeoutError) as exc:
            self.abort()
            raise NetworkError(f"{ep.host}:{ep.port}: TLS handshake after STARTTLS failed: {exc}") from None
        self.proto.transport = tls
        self.proto.capabilities = set()
        await self._run(self.proto.capability(), "CAPABILITY")

    async def _login(self) -> None:
        creds = await credentials(self.account, "imap")
        caps = {c.upper() for c in self.proto.capabilities}
        if creds.mechanism == "xoauth2":
            resp = await self._authenticate("XOAUTH2", xoauth2_string(creds.username, creds.secret), caps)
        elif "AUTH=PLAIN" in caps:
            plain = f"\0{creds.username}\0{creds.secret}".encode()
            resp = await self._authenticate("PLAIN", base64.b64encode(plain).decode(), caps)
        elif "LOGINDISABLED" in caps:
            raise AccountConfigError(f"{self.account.imap.host}: the server allows no password login here",
                                     WRONG_PORT_HINT)
        else:
            resp = await self._run(self.proto.login(creds.username, creds.secret), "LOGIN")
        if resp.result == "OK":
            self.proto.state = aioimaplib.AUTH
            return
        text = _text(resp)
        if "[UNAVAILABLE]" in text or "[INUSE]" in text:
            raise NetworkError(f"login temporarily refused: {text}")
        if creds.mechanism == "xoauth2":
            await invalidate(self.account)
        raise rejected(self.account, "imap", text)

    async def _authenticate(self, mechanism: str, initial: str, caps: set[str]) -> aioimaplib.Response:
        cmd = SaslCommand(self.proto, mechanism, initial, send_initial="SASL-IR" in caps)
        return await self._run(self.proto.execute(cmd, scrub=initial), "AUTHENTICATE")

    # -- running commands ----------------------------------------------------------------

    async def _run(self, coro, what: str, *, timeout: float | None = None):
        """Await an aioimaplib call, or fail fast when the link died or went silent."""
        if self._idling is not None:
            await self._end_idling()
        limit = timeout or self.timeout
        task = asyncio.ensure_future(coro)
        started = self._loop.time()
        try:
            while True:
                quiet = self._loop.time() - max(started, self.proto.last_data)
                done, _ = await asyncio.wait({task, self._lost}, timeout=max(0.05, limit - quiet),
                                             return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    try:
                        return task.result()
                    except (aioimaplib.AioImapException, OSError) as exc:
                        self.abort()
                        raise NetworkError(f"{what}: {type(exc).__name__} {exc}".strip()) from None
                if self._lost.done():
                    raise self._lost_error(what)
                if self._loop.time() - max(started, self.proto.last_data) >= limit:
                    self.abort()
                    raise NetworkError(f"{what}: no answer from the server in {limit:.0f} s")
        finally:
            if not task.done():
                task.cancel()

    async def _end_idling(self) -> None:
        """End the IDLE sent with the last look (``_idling``): DONE once the server has taken it
        up, then its answer (a server that refused it has answered already)."""
        idling, self._idling = self._idling, None
        if idling is None:
            return
        answer = asyncio.ensure_future(_answer(idling))
        ack = asyncio.ensure_future(self.proto.taken_up(idling))
        try:
            await self._run(asyncio.wait({answer, ack}, return_when=asyncio.FIRST_COMPLETED), "IDLE")
            if not answer.done():
                self.proto.idle_done()
            await self._idle_ended(answer)
        finally:
            ack.cancel()
            answer.cancel()

    async def _idle_ended(self, answer: asyncio.Future) -> None:
        """The server's answer to DONE (``answer``: the IDLE's): OK, else ``ImapNo``. What the
        IDLE queued is dropped: its news is in ``changes`` and ``announced``."""
        resp = await self._run(asyncio.shield(answer), "DONE")
        if resp.result != "OK":
            raise ImapNo(f"IDLE ended with {resp.result} {_text(resp)}")
        while not self.proto.idle_queue.empty():
            self.proto.idle_queue.get_nowait()

    def _lost_error(self, what: str) -> NetworkError:
        exc = self._lost.result() if self._lost.done() else None
        if self.proto.bye:
            return NetworkError(f"server closed the connection: {self.proto.bye}")
        if isinstance(exc, OSError) and exc.errno == errno.ETIMEDOUT:
            # the kernel's keepalive probes or its user timeout (app/tls.py) went unanswered
            return NetworkError(f"{what}: connection lost: the link went silent (no acknowledgement from "
                                f"{self.account.imap.host} at the network level: {exc.strerror or exc})")
        if exc is not None:
            return NetworkError(f"{what}: connection lost: {type(exc).__name__} {exc}".strip())
        return NetworkError(f"{what}: connection closed by the server")

    async def _ok(self, coro, what: str) -> aioimaplib.Response:
        resp = await self._run(coro, what)
        if resp.result != "OK":
            raise ImapNo(f"{what}: {resp.result} {_text(resp)}")
        return resp

    @property
    def alive(self) -> bool:
        return not self._lost.done() and self.proto.bye is None

    def _count_in(self) -> None:
        acct = self.account
        if _open_per_account.get(acct.id, 0) >= acct.max_connections:
            raise NetworkError(f"{acct.id}: {acct.max_connections} IMAP connections already open to this mailbox",
                               "its provider limits simultaneous connections (max_connections); this one waits")
        _open_per_account[acct.id] = _open_per_account.get(acct.id, 0) + 1
        self._counted = True

    def abort(self) -> None:
        if self._counted:
            self._counted = False
            _open_per_account[self.account.id] -= 1
        transport = self.proto.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    async def close(self, timeout: float = 2.0) -> None:
        """LOGOUT politely if the link is alive, then drop it."""
        if self.alive and self.proto.state in (aioimaplib.AUTH, aioimaplib.SELECTED):
            if self.proto.has_pending_idle_command():
                self._idling = None  # (LOGOUT waits for its end)
                self.proto.idle_done()
            try:
                await asyncio.wait_for(self._run(self.proto.logout(), "LOGOUT", timeout=timeout), timeout)
            except (NetworkError, TimeoutError, aioimaplib.AioImapException):
                pass
        self.abort()

    def take_changes(self) -> Changes:
        """What the server announced since the last call (mailbox growth, expunges, flag changes)."""
        changes, self.proto.changes = self.proto.changes, Changes()
        return changes

    # -- commands ------------------------------------------------------------------------

    async def list_folders(self) -> list[r.ListEntry]:
        resp = await self._ok(self.proto.simple_command("LIST", '""', '"*"'), "LIST")
        return r.parse_list(resp.lines)

    async def namespace(self) -> Namespace:
        """The personal namespace (NAMESPACE, RFC 2342); without it, the hierarchy delimiter from
        ``LIST "" ""`` and no prefix."""
        if "NAMESPACE" in self.capabilities:
            resp = await self._ok(self.proto.namespace(), "NAMESPACE")
            found = r.parse_namespace(resp.lines)
            if found is not None:
                return found
        resp = await self._ok(self.proto.simple_command("LIST", '""', '""'), "LIST")
        entries = r.parse_list(resp.lines)
        return Namespace("", entries[0].delimiter if entries else None)

    async def select(self, folder: str) -> r.SelectInfo:
        if self.selected is not None and self.selected != folder and self.proto.changes:
            # what the server said about the folder we leave is not about the next one: that
            # folder is looked at again (Junk or Sent changed while a sync had it selected)
            self.proto.announced.setdefault(self.selected, {})[CHANGED] = 1
        self.selected = None
        resp = await self._ok(self.proto.select(r.quote(folder)), f"SELECT {folder}")
        self.selected = folder
        info = r.parse_select(resp.lines)
        if info.uidnext is None:
            info.uidnext = await self.fallback_uidnext(folder, info.exists)
        self.select_info = info
        return info

    async def fallback_uidnext(self, folder: str, exists: int) -> int | None:
        """For a server whose SELECT leaves out UIDNEXT (RFC 3501 requires it): STATUS (UIDNEXT),
        else the highest UID there plus one. Without it every poll would look like new mail."""
        resp = await self._run(self.proto.simple_command("STATUS", r.quote(folder), "(UIDNEXT)"), "STATUS")
        self.proto.announced.pop(folder, None)
        uidnext = r.parse_status(resp.lines, folder).get("UIDNEXT") if resp.result == "OK" else None
        if uidnext or not exists:
            return uidnext
        last = await self.uid_fetch("*", "(UID)")
        return max(f.uid for f in last) + 1 if last else None

    @property
    def _status_items(self) -> str:
        return "UIDNEXT UIDVALIDITY MESSAGES" + (" HIGHESTMODSEQ" if self.condstore else "")

    async def statuses(self, folders: list[str], asked: aioimaplib.Command | None = None) -> dict[str, dict[str, int]]:
        """STATUS of several folders: one ``LIST ... RETURN (STATUS ...)`` where the server has
        LIST-STATUS (RFC 5819), else one STATUS each. A folder missing from the answer maps to {}.
        ``asked``: the first of those commands (``status_question``), sent already (``idle``)."""
        out: dict[str, dict[str, int]] = {}
        while len(out) < len(folders):
            left = [f for f in folders if f not in out]
            sent, command, asked = asked is not None, asked or self.status_question(left), None
            listed = command.name == "LIST"
            what = "LIST-STATUS" if listed else f"STATUS {left[0]}"
            resp = await self._ok(_answer(command) if sent else self.proto.execute(command), what)
            found = r.parse_statuses(resp.lines) if listed else {left[0]: r.parse_status(resp.lines, left[0])}
            for f in left if listed else left[:1]:
                out[f] = found.get(f, {})
                self.proto.announced.pop(f, None)  # our own question's answer, not news
        return {f: out[f] for f in folders}

    def status_question(self, folders: list[str]) -> aioimaplib.Command:
        """The first command of a look at ``folders`` (``statuses``), not sent: one LIST-STATUS
        for all of them where the server has it, else the first folder's STATUS."""
        items = f"({self._status_items})"
        if len(folders) > 1 and "LIST-STATUS" in self.capabilities:
            patterns = "(" + " ".join(r.quote(f) for f in folders) + ")"
            return aioimaplib.Command("LIST", self.proto.new_tag(), '""', patterns, "RETURN", f"(STATUS {items})",
                                      loop=self._loop)
        return aioimaplib.Command("STATUS", self.proto.new_tag(), r.quote(folders[0]), items, loop=self._loop)

    async def notify(self, folders: list[str]) -> bool:
        """Ask the server (NOTIFY, RFC 5465) to say, also during IDLE, when ``folders`` change,
        besides the selected folder's usual news. True if it agreed: those folders need no poll."""
        if not folders or "NOTIFY" not in self.capabilities:
            return False
        events = "(MessageNew MessageExpunge FlagChange)"
        names = "(" + " ".join(r.quote(f) for f in folders) + ")"
        resp = await self._run(self.proto.execute(aioimaplib.Command(
            "NOTIFY", self.proto.new_tag(), "SET", f"(selected {events})", f"(mailboxes {names} {events})",
            loop=self._loop)), "NOTIFY")
        return resp.result == "OK"

    def take_looked(self) -> dict[str, dict[str, int]] | None:
        """The STATUS answers of the look the last ``idle`` made as it ended (``look``), if it did."""
        looked, self._looked = self._looked, None
        return looked

    def take_announced(self) -> dict[str, dict[str, int]]:
        """Folders the server said changed since the last call (see ``ImapProtocol.announced``)."""
        announced, self.proto.announced = self.proto.announced, {}
        return announced

    @property
    def condstore(self) -> bool:
        return "CONDSTORE" in self.capabilities

    async def uid_search(self, *criteria: str) -> list[int]:
        resp = await self._ok(self.proto.search(*criteria, charset=None, by_uid=True), "UID SEARCH")
        return r.parse_search(resp.lines)

    async def uid_fetch(self, uids: str, items: str) -> list[r.Fetched]:
        """``UID FETCH``. A message whose part of the answer came garbled (``Fetched.garbled``:
        the server wrote a line of news inside it) is fetched again, never handed on as read;
        the same bytes twice are the server's own way of writing its answer and are taken.
        Still garbled after ``FETCH_TRIES`` answers, the connection is given up (a
        ``NetworkError`` with the reason: the watcher connects again). A garbled answer may have
        swallowed news of another folder: every folder is looked at again."""
        fetched = await self._fetch(uids, items)
        for _ in range(FETCH_TRIES - 1):
            garbled = [f for f in fetched if f.garbled]
            if not garbled:
                return fetched
            self.proto.announced.setdefault(ANY_FOLDER, {})
            log.warning("%s: the server's answer to UID FETCH was garbled around %d message(s) (UID %s): "
                        "fetching them again", self.account.id, len(garbled), garbled[0].uid)
            again = {f.uid: f for f in await self._fetch(r.uid_set([f.uid for f in garbled]), items)}
            for f in garbled:
                same = again.get(f.uid)
                if same is not None and same.garbled and same.body == f.body:
                    again[f.uid] = dataclasses.replace(same, garbled=False)
            # a message gone from the server meanwhile is left out, as a first answer would have
            fetched = [again[f.uid] if f.garbled else f for f in fetched if not f.garbled or f.uid in again]
        if any(f.garbled for f in fetched):
            self.abort()
            raise NetworkError(f"UID FETCH: the server's answer was garbled {FETCH_TRIES} times in a row "
                               "(a line of its own written inside a message)")
        return fetched

    async def _fetch(self, uids: str, items: str) -> list[r.Fetched]:
        resp = await self._ok(self.proto.fetch(uids, items, by_uid=True), "UID FETCH")
        return r.parse_fetch(resp.lines)

    async def uid_store(self, uids: str, action: str, flags: list[str]) -> None:
        await self._ok(self.proto.store(uids, action, "(" + " ".join(flags) + ")", by_uid=True), "UID STORE")

    async def uid_move(self, uids: str, folder: str) -> tuple[int, dict[int, int]] | None:
        if "MOVE" in self.capabilities:
            resp = await self._ok(self.proto.move(uids, r.quote(folder), by_uid=True), "UID MOVE")
            return r.parse_copyuid(resp.lines)
        resp = await self._ok(self.proto.copy(uids, r.quote(folder), by_uid=True), "UID COPY")
        await self.uid_store(uids, "+FLAGS.SILENT", ["\\Deleted"])
        if "UIDPLUS" in self.capabilities:
            await self._ok(self.proto.expunge(uids, by_uid=True), "UID EXPUNGE")
        else:
            await self._ok(self.proto.expunge(), "EXPUNGE")
        return r.parse_copyuid(resp.lines)

    async def create(self, folder: str) -> None:
        await self._ok(self.proto.simple_command("CREATE", r.quote(folder)), f"CREATE {folder}")

    async def append(self, folder: str, raw: bytes, flags: list[str]) -> int | None:
        """APPEND; the new UID where the server says it (UIDPLUS)."""
        resp = await self._ok(self.proto.append(raw, r.quote(folder), " ".join(flags) or None, None,
                                                timeout=None), f"APPEND {folder}")
        value = r.response_codes(resp.lines).get("APPENDUID", "").split()
        return int(value[1]) if len(value) == 2 and value[1].isdigit() else None

    # -- IDLE ----------------------------------------------------------------------------

    async def idle(self, wake: asyncio.Event, seconds: float, look: list[str] | None = None) -> str:
        """IDLE until the server announces a change (``"push"``), ``wake`` is set (``"wake"``) or
        ``seconds`` pass (``"refresh"``); then DONE. A link that dies or says BYE raises.

        ``look``: folders whose STATUS is due when the time is up. The question then goes out
        with DONE, in one write, and its answer is kept for ``take_looked``; where it is one
        command, the next IDLE follows in that write too, and the next ``idle`` goes on with it
        (``_idling``): a poll costs one write and one round trip instead of three."""
        p = self.proto
        if p.changes or p.announced or wake.is_set():  # (an IDLE sent with the look is ended by the next command)
            return "wake" if wake.is_set() and not (p.changes or p.announced) else "push"
        command, self._idling = self._idling, None
        p.activity.clear()
        if command is None:
            command = p.new_idle()
            idle_task = asyncio.ensure_future(p.idle_command(command))
        else:  # sent with the last look
            idle_task = asyncio.ensure_future(_answer(command))
        waiters: list[asyncio.Future] = []
        try:
            ack = asyncio.ensure_future(p.taken_up(command))
            waiters.append(ack)
            done, _ = await asyncio.wait({idle_task, ack, self._lost}, timeout=self.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if self._lost.done():
                raise self._lost_error("IDLE")
            if idle_task in done:
                resp = idle_task.result()
                raise ImapNo(f"IDLE refused: {resp.result} {_text(resp)}")
            if not done:
                self.abort()
                raise NetworkError(f"IDLE: no answer from the server in {self.timeout:.0f} s")
            activity = asyncio.ensure_future(p.activity.wait())
            woken = asyncio.ensure_future(wake.wait())
            waiters += [activity, woken]
            done, _ = await asyncio.wait({activity, woken, idle_task, self._lost}, timeout=seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if self._lost.done() or p.bye is not None:
                self.abort()
                raise self._lost_error("IDLE")
            reason = "push" if (activity in done or idle_task in done) else "wake" if woken in done else "refresh"
            question = again = None
            if not idle_task.done():
                if reason == "refresh" and look:
                    question = self.status_question(look)
                    # IDLE again in the same write, where the question is the whole look
                    if question.name == "LIST" or len(look) == 1:
                        again = p.new_idle()
                    if not p.done_then(question, again):
                        question = again = None
                if question is None:
                    p.idle_done()
            # the server's OK to DONE is the proof of life the refresh timer asks for
            await self._idle_ended(idle_task)
            if question is not None and look:
                try:
                    self._looked = await self.statuses(look, asked=question)
                finally:
                    self._idling = again
            return reason
        finally:
            for w in waiters:
                w.cancel()
            if not idle_task.done():
                idle_task.cancel()


async def _answer(command: aioimaplib.Command) -> aioimaplib.Response:
    """The answer to a command sent outside ``execute`` (``ImapProtocol.done_then``)."""
    await command.wait()
    return command.response


def _text(resp: aioimaplib.Response) -> str:
    for line in reversed(resp.lines):
        if isinstance(line, bytes):
            return line.decode("utf-8", "replace").strip()[:300]
    return ""
