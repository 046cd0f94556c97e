"""A throwaway PostgreSQL on loopback, from Debian's ``postgresql`` package.

initdb into a temporary directory, a free port on 127.0.0.1 only (no Unix socket), password
authentication (scram-sha-256) for a role the tests log in as. initdb and the server refuse to run
as root: as root they run as the ``postgres`` user, which owns the data directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers.handed_out import SECRETS
from tests.servers.ports import free_port

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin")


def _version(bindir: str) -> tuple[int, ...]:
    name = Path(bindir).parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: the newest Debian version, else the PATH."""
    candidates = []
    for pattern in SEARCH:
        candidates += sorted(glob.glob(pattern), key=_version, reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return Path(bindir)
    return None


class Postgres:
    """``durable``: keep fsync and synchronous commits on (benchmarks); tests turn them off."""

    host = "127.0.0.1"
    user = "replydesk"

    def __init__(self, root: Path | None = None, *, durable: bool = False) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: run scripts/test (apt-get install postgresql)")
        self.bindir = bindir
        self.durable = durable
        self.root = Path(root or tempfile.mkdtemp(prefix="replydesk-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        SECRETS.add(self.password)
        self.running = False
        self._owner = _unprivileged_owner()
        self.data.mkdir(mode=0o700)
        self.log.touch()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._owner is not None:
            for path in (self.data, self.log, pwfile):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=scram-sha-256",
                      f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync")
        finally:
            pwfile.unlink()

    def _run(self, binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        owner = self._owner
        proc = subprocess.run([str(self.bindir / binary), *args], capture_output=True, text=True,
                              cwd=self.root, user=owner.pw_uid if owner else None,
                              group=owner.pw_gid if owner else None, extra_groups=[] if owner else None,
                              env={"PATH": os.environ.get("PATH", ""), "LANG": "C", "LC_ALL": "C"})
        if check and proc.returncode != 0:
            raise RuntimeError(f"{binary} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                               f"\n{self.log_tail()}")
        return proc

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        options = [f"-p {self.port}", f"-c listen_addresses={self.host}", "-c unix_socket_directories=''",
                   "-c max_connections=200", "-c shared_buffers=32MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout)),
                  "-o", " ".join(options))
        self.running = True
        self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> None:
        import socket
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not listen on {self.port}: {self.log_tail()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if not self.running:
            return
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", check=False)
        self.running = False

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- databases ---------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL without the password (it comes from PGPASSWORD)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # -> psycopg.Connection
        import psycopg
        return psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                               dbname=database, autocommit=True)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its name."""
        from psycopg import sql
        name = name or f"t_{secrets.token_hex(6)}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def __repr__(self) -> str:
        return f"Postgres(port={self.port}, bindir={self.bindir})"


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """Who runs initdb and the server: the ``postgres`` user when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("PostgreSQL refuses to run as root and there is no postgres user: "
                           "install Debian's postgresql package (scripts/test does)") from None


def postgres_available() -> bool:
    return find_bindir() is not None
