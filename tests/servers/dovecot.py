"""A throwaway Dovecot (IMAP with IDLE, special-use folders, LMTP delivery) on loopback.

Built from ../shared/reference/dovecot-test.conf's settings. Needs the Debian packages
dovecot-imapd and dovecot-lmtpd; runs as root with mail owned by the dovecot user.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

from app.demo.certs import make_certificate
from tests.parse_procs import children, cpu_seconds
from tests.servers.ports import free_port

CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap lmtp
listen = {listen}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login xoauth2 oauthbearer
disable_plaintext_auth = no
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_max_userip_connections = 50
default_process_limit = 3000
default_client_limit = 10000
default_vsz_limit = 0
mail_location = maildir:{root}/mail/%u
imap_idle_notify_interval = 2 mins
rawlog_dir = {root}/rawlog/%u
auth_verbose = yes
verbose_proctitle = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u allow_all_users=yes
}}
{namespace}{capability}service imap-login {{
  chroot =
  process_min_avail = 2
  service_count = 0
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service imap {{
  process_limit = 3000
}}
service anvil {{
  chroot =
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"""


NAMESPACE = """
namespace inbox {{
  inbox = yes
{layout}{mailboxes}}}
"""
MAILBOX = """  mailbox {name} {{
{special_use}    auto = subscribe
  }}
"""
CAPABILITIES = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
                "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
                "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
                "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "
                "STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE")
"""What Dovecot 2.3.19 offers after login; ``imap_capability`` replaces it as a whole."""


def dovecot_available() -> bool:
    return shutil.which("dovecot") is not None and shutil.which("doveadm") is not None


class Dovecot:
    """``prefix``/``separator``: the personal namespace (``"INBOX."`` and ``"."`` as Courier and
    Cyrus servers have it); ``special_use``: LIST marks Sent, Junk, Archive and Trash;
    ``archive``: an Archive folder exists from the start; ``without``: capabilities taken away
    (``("CONDSTORE", "QRESYNC")``: a server that sends no MODSEQ); ``listen_also``: addresses
    IMAP listens on besides 127.0.0.1; ``cert_names``: addresses its certificate names besides
    127.0.0.1 and localhost (what a client that reaches it through a relay connects to)."""

    host = "127.0.0.1"

    def __init__(self, root: Path | None = None, *, prefix: str = "", separator: str | None = None,
                 special_use: bool = True, archive: bool = True, without: tuple[str, ...] = (),
                 listen_also: tuple[str, ...] = (), cert_names: tuple[str, ...] = ()) -> None:
        self.prefix = prefix
        self.separator = separator or "."
        self.root = Path(root or tempfile.mkdtemp(prefix="replydesk-dovecot-"))
        self.root.chmod(0o755)
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.lmtp_port = free_port()
        self.conf = self.root / "dovecot.conf"
        self.users_file = self.root / "users"
        self.passwords: dict[str, str] = {}
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        self.ca_file, _ = make_certificate(self.root, cert_names)
        self.users_file.write_text("")
        self.conf.write_text(CONF.format(
            root=self.root, listen=", ".join((self.host, *listen_also)),
            imap_port=self.imap_port, imaps_port=self.imaps_port, lmtp_port=self.lmtp_port,
            namespace=_namespace(prefix, separator, special_use, archive),
            capability=_capability(without)))
        subprocess.run(["chown", "-R", "dovecot:dovecot", str(self.root / "mail"), str(self.root / "home")],
                       check=True)
        self.running = False

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 20) -> None:
        subprocess.run(["dovecot", "-c", str(self.conf)], check=True)
        self.running = True
        self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> None:
        import socket
        deadline = time.monotonic() + timeout
        pending = {self.imap_port, self.imaps_port, self.lmtp_port}
        while pending and time.monotonic() < deadline:
            for port in list(pending):
                try:
                    with socket.create_connection((self.host, port), timeout=1):
                        pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.05)
        if pending:
            raise RuntimeError(f"dovecot did not listen on {pending}: {self.log_tail()}")

    def stop(self) -> None:
        if not self.running:
            return
        subprocess.run(["doveadm", "-c", str(self.conf), "stop"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid_file = self.root / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.running = False

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds of each process of this server now (Linux /proc): its master and the
        processes under it (login, auth, a session's imap ...)."""
        master = int((self.root / "run" / "master.pid").read_text())
        found = {}
        for proc in (Path(f"/proc/{master}"), *children(master)):
            try:
                found[int(proc.name)] = cpu_seconds(proc)
            except (OSError, ValueError):
                continue  # ended meanwhile
        return found

    def cpu_since(self, before: dict[int, float]) -> float:
        """CPU seconds this server spent since ``cpu_by_process()`` gave ``before``, in the
        processes that live now (one that ended meanwhile, such as a login process, is left out:
        the CPU of its whole life would be added to the master's only when it is reaped)."""
        return cpu_between(before, self.cpu_by_process())

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join((self.root / "dovecot.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- what clients sent -------------------------------------------------------------

    def record_commands(self, email: str) -> None:
        """From now on, Dovecot writes what ``email``'s IMAP sessions send (its rawlog: only for
        users whose directory exists)."""
        folder = self.root / "rawlog" / email
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", "dovecot:dovecot", str(self.root / "rawlog")], check=True)

    def commands(self, email: str) -> list[str]:
        """The commands ``email``'s sessions sent since ``record_commands``, without their tags
        (``STATUS Junk (UIDNEXT ...)``, ``DONE``), in order within each session."""
        return [command for read in self.command_reads(email) for command in read]

    def command_reads(self, email: str) -> list[list[str]]:
        """``commands(email)`` as the server read them: the commands that reached it in one read
        (the rawlog gives each line the time of its read) grouped in a list, in order within
        each session."""
        reads: list[list[str]] = []
        for log in sorted((self.root / "rawlog" / email).glob("*.in")):
            last = None
            for line in log.read_text(errors="replace").splitlines():
                stamp, _, rest = line.partition(" ")
                command = _untagged(rest)
                if command is None:
                    continue
                if stamp != last:
                    reads.append([])
                    last = stamp
                reads[-1].append(command)
        return reads

    def answers(self, email: str) -> bytes:
        """What the server wrote to ``email``'s sessions since ``record_commands``, as it went out
        (the rawlog's timestamp at the start of each line taken off)."""
        sent = b"".join(p.read_bytes() for p in sorted((self.root / "rawlog" / email).glob("*.out")))
        return re.sub(rb"(?m)^[0-9]+\.[0-9]+ ", b"", sent)

    # -- users and mail ----------------------------------------------------------------

    def add_user(self, email: str, password: str) -> None:
        self.add_users([(email, password)])

    def add_users(self, pairs: list[tuple[str, str]]) -> None:
        self.passwords.update(pairs)
        self._write_users()

    def _write_users(self) -> None:
        tmp = self.users_file.with_suffix(".tmp")
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.passwords.items()))
        # Dovecot re-reads the file when its mtime changes: make every write a new second.
        self._mtime = max(time.time(), getattr(self, "_mtime", 0) + 1)
        os.utime(tmp, (self._mtime, self._mtime))
        os.replace(tmp, self.users_file)

    def wait_until_users_visible(self) -> None:
        """Dovecot checks its passwd-file at most once per clock second: after a write, the first
        lookup in a later second sees it. Failed probe logins would cost auth penalties instead."""
        time.sleep(1.02 - time.time() % 1)

    def folder(self, name: str) -> str:
        """A folder's full name on this server (``INBOX.Archive`` below an ``INBOX.`` prefix)."""
        if name.upper() == "INBOX" or not self.prefix:
            return name
        return self.prefix + name.replace("/", self.separator)

    def doveadm(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["doveadm", "-c", str(self.conf), *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def kick(self, email: str) -> None:
        self.doveadm("kick", email, check=False)

    def sessions_in_idle(self, email: str) -> int:
        """``email``'s IMAP sessions in IDLE at this moment: each session's process title names
        the command it is in (``verbose_proctitle``), e.g. ``dovecot/imap [user 127.0.0.1 IDLE]``."""
        count = 0
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                title = cmdline.read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("dovecot/imap [") and f"[{email} " in title and title.rstrip("\0 ").endswith(
                    " IDLE]"):
                count += 1
        return count

    def deliver(self, to: str, raw: bytes, mail_from: str = "prospect@example.net") -> None:
        """Deliver as a remote sender would: LMTP into ``to``'s INBOX."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
            lmtp.sendmail(mail_from, [to], raw)

    def put_in_maildir(self, email: str, raws: list[bytes]) -> None:
        """Messages written straight into ``email``'s INBOX maildir, far faster than delivering
        thousands over LMTP: Dovecot finds them at its next look (their arrival time is now)."""
        cur = self.root / "mail" / email / "cur"
        for sub in ("cur", "new", "tmp"):
            (cur.parent / sub).mkdir(parents=True, exist_ok=True)
        first = len(list(cur.iterdir()))
        for i, raw in enumerate(raws, first):
            (cur / f"{1_700_000_000 + i}.{i}.put:2,").write_bytes(raw)
        subprocess.run(["chown", "-R", "dovecot:dovecot", str(cur.parent)], check=True)

    def mailbox_uids(self, email: str, mailbox: str = "INBOX") -> list[int]:
        out = self.doveadm("search", "-u", email, "mailbox", mailbox, "ALL")
        return [int(line.split()[1]) for line in out.splitlines() if line.strip()]

    def fetch_field(self, email: str, field: str, mailbox: str = "INBOX") -> str:
        """``doveadm fetch`` of one field (e.g. ``flags``, ``hdr``, ``text``) over a mailbox."""
        return self.doveadm("fetch", "-u", email, field, "mailbox", mailbox, "ALL")

    def __repr__(self) -> str:
        return f"Dovecot(imaps={self.imaps_port}, imap={self.imap_port}, lmtp={self.lmtp_port})"


def _namespace(prefix: str, separator: str | None, special_use: bool, archive: bool) -> str:
    layout = (f"  prefix = {prefix}\n" if prefix else "") + (f"  separator = {separator}\n" if separator else "")
    names = ["Sent", "Junk", *(["Archive"] if archive else []), "Trash"]
    mailboxes = "".join(MAILBOX.format(name=n, special_use=f"    special_use = \\{n}\n" if special_use else "")
                        for n in names)
    return NAMESPACE.format(layout=layout, mailboxes=mailboxes)


def _capability(without: tuple[str, ...]) -> str:
    if not without:
        return ""
    caps = [c for c in CAPABILITIES.split() if c not in without]
    return f"protocol imap {{\n  imap_capability = {' '.join(caps)}\n}}\n"


def ensure_packages() -> None:
    """Tests need Dovecot; scripts/test installs it. Fail with a clear message otherwise."""
    if not dovecot_available():
        raise RuntimeError("Dovecot is not installed: run scripts/test (apt-get install dovecot-imapd "
                           "dovecot-lmtpd)")
    if os.geteuid() != 0:
        raise RuntimeError("the Dovecot test fixture runs as root (it chowns mail to the dovecot user)")


def _untagged(line: str) -> str | None:
    """A command line of the rawlog (its time taken off) without its tag; DONE has none."""
    words = line.split(" ", 1)
    if words[0] == "DONE" or len(words) == 1:
        return words[0] or None
    return words[1]


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings of ``Dovecot.cpu_by_process()``, in the processes
    of the later one (one that started in between counts whole, one that ended is left out)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
