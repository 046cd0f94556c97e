"""Session-wide real servers on loopback and helpers to drive them.

- ``dovecot``: Dovecot with IMAP (STARTTLS and implicit TLS), special-use folders, LMTP.
- ``imap_server``: parametrized over that Dovecot and one configured the way Courier- and
  Cyrus-style servers are (``inbox_prefix_dovecot``): folders below ``INBOX.`` with ``.`` as
  separator, no special-use attributes, no Archive folder, no CONDSTORE, no NOTIFY (Junk and Sent
  are polled, the look sent with the DONE that ends IDLE).
- ``postgres``: PostgreSQL from Debian's package on a free loopback port (password auth; a test
  gets its own empty database from ``pg_url``, the password in ``PGPASSWORD``).
- ``smtp_server``: aiosmtpd submission (STARTTLS / implicit TLS, AUTH against Dovecot's users)
  relaying every accepted message into Dovecot over LMTP.
- ``users(n)``: fresh mailboxes; ``deliver(...)``: a prospect's message into an INBOX;
  ``make_config(tmp_path, users)``: a config.toml pointing at both servers.
"""

from __future__ import annotations

import itertools
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from tests.servers.dovecot import Dovecot, ensure_packages
from tests.servers.handed_out import SECRETS
from tests.servers.postgres import Postgres
from tests.servers.smtpd import SmtpServer

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Where tests/test_compiled.py runs tests against the wheel's compiled reader
    (``REPLYDESK_COMPILED_TREE``), stop before any runs unless that is what they import."""
    tree = os.environ.get("REPLYDESK_COMPILED_TREE")
    if tree:
        from tests.compiled import imported_from
        if wrong := imported_from(Path(tree)):
            pytest.exit(f"not the compiled reader: {wrong}", returncode=3)


_counter = itertools.count(1)


@dataclass(frozen=True)
class User:
    email: str
    password: str
    env: str
    """Name of the environment variable holding the password (what configs refer to)."""


SCANNED_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".log", ".toml")


def scanned_files(base: Path) -> list[Path]:
    """The databases, logs and configs under ``base``: where a leaked secret would rest."""
    files = []
    for root, _, names in os.walk(base):
        for name in names:
            if name.endswith(SCANNED_SUFFIXES) or ".log." in name:
                files.append(Path(root) / name)
    return files


def leaks_under(base: Path, secrets: set[str]) -> list[str]:
    leaks = []
    for path in scanned_files(base):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        leaks += [f"{path}: {secret[:6]}…" for secret in secrets if secret.encode() in data]
    return leaks


@pytest.fixture(scope="session", autouse=True)
def no_secret_on_disk(tmp_path_factory):
    """When the session ends (in each worker of a parallel run): no password or token the
    fixtures handed out rests in any database, log or config the session's tests wrote."""
    yield
    secrets = {s for s in SECRETS if len(s) >= 8}
    leaks = leaks_under(tmp_path_factory.getbasetemp(), secrets)
    assert not leaks, "secrets found on disk:\n" + "\n".join(leaks)


@pytest.fixture(scope="session")
def dovecot():
    ensure_packages()
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL per worker, started when a test first needs it."""
    server = Postgres()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(postgres, monkeypatch) -> str:
    """A ``postgresql://`` URL of a new empty database; the password in ``PGPASSWORD`` (libpq reads it)."""
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    return postgres.url(postgres.create_database())


@pytest.fixture(scope="session")
def pg_store_template(postgres) -> str:
    """A database holding an empty store at the current schema, from which each test's store is
    copied (``CREATE DATABASE … TEMPLATE``): faster than running the migrations in every test."""
    from app.store import Store
    name = postgres.create_database("rd_template")
    os.environ.setdefault("PGPASSWORD", postgres.password)
    Store(postgres.url(name)).close()
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path, monkeypatch):
    """Where a new store goes, on each of the store's two backends: ``store_target()`` (or
    ``store_target("name.db")``) is a SQLite file under ``tmp_path`` or the URL of a new
    PostgreSQL database holding an empty store. Tests of the store's behaviour take it, so the
    whole set runs on both."""
    if request.param == "sqlite":
        return lambda name="replydesk.db": tmp_path / name
    postgres = request.getfixturevalue("postgres")
    template = request.getfixturevalue("pg_store_template")
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    made: dict[str, str] = {}

    def new(name: str = "replydesk.db") -> str:
        if name not in made:
            made[name] = new_pg_store(postgres, template)
        return made[name]
    return new


def new_pg_store(postgres: Postgres, template: str) -> str:
    """The URL of a new PostgreSQL database holding an empty store, copied from ``template``
    (``pg_store_template``). libpq finds the password in ``PGPASSWORD``."""
    from psycopg import sql
    db = f"t_{secrets.token_hex(6)}"
    with postgres.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(db), sql.Identifier(template)))
    return postgres.url(db)


INBOX_PREFIX = {"prefix": "INBOX.", "separator": ".", "special_use": False, "archive": False,
                "without": ("CONDSTORE", "QRESYNC", "NOTIFY")}


@pytest.fixture(scope="session")
def inbox_prefix_dovecot():
    ensure_packages()
    server = Dovecot(**INBOX_PREFIX)  # type: ignore[arg-type]
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(params=["dovecot", "inbox_prefix_dovecot"])
def imap_server(request) -> Dovecot:
    """The engine's folder, archive and flag tests run against both servers."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def smtp_server(dovecot):
    cert, key = dovecot.ca_file, dovecot.root / "key.pem"
    server = SmtpServer(
        cert, key,
        check_password=lambda user, pw: dovecot.passwords.get(user) == pw,
        deliver=dovecot.deliver,
        is_local=lambda rcpt: rcpt in dovecot.passwords,
    )
    server.start()
    yield server
    server.stop()


def new_users(dovecot: Dovecot, count: int, prefix: str = "user") -> list[User]:
    """Create mailboxes in one write, and return once Dovecot accepts their logins."""
    made = []
    for _ in range(count):
        n = next(_counter)
        email = f"{prefix}{n}-{uuid.uuid4().hex[:6]}@example.com"
        password = "pw-" + secrets.token_hex(8)
        env = f"REPLYDESK_TEST_PW_{n}"
        SECRETS.add(password)
        os.environ[env] = password
        made.append(User(email, password, env))
    dovecot.add_users([(u.email, u.password) for u in made])
    if made:
        dovecot.wait_until_users_visible()
    return made


@pytest.fixture
def users(dovecot):
    def make(n: int = 1, prefix: str = "user") -> list[User]:
        return new_users(dovecot, n, prefix)
    return make


def build_message(to: str, *, subject: str = "Re: Quick question", body: str = "Sounds interesting.",
                  from_addr: str = "Pat Prospect <pat@prospect.example>", message_id: str | None = None,
                  in_reply_to: str | None = None, references: str | None = None,
                  extra_headers: dict[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="prospect.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references or in_reply_to:
        msg["References"] = references or in_reply_to
    for k, v in (extra_headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg


@pytest.fixture
def deliver(dovecot):
    def send(to: str, **kwargs) -> str:
        msg = build_message(to, **kwargs)
        dovecot.deliver(to, msg.as_bytes())
        return msg["Message-ID"]
    return send


def write_config(path: Path, dovecot: Dovecot, smtp: SmtpServer | None, users: list[User],
                 database: Path | None = None, **general) -> Path:
    """A config.toml for ``users`` on the fixture servers. Passwords stay in the environment."""
    lines = ["[general]"]
    lines.append(f'database = "{database or path.parent / "replydesk.db"}"')
    for key, value in general.items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    for u in users:
        lines += [
            "", "[[accounts]]", f'email = "{u.email}"', f'name = "{u.email.split("@")[0].title()}"',
            'provider = "generic"', f'password_env = "{u.env}"',
            "[accounts.imap]", f'host = "{dovecot.host}"', f"port = {dovecot.imaps_port}",
            'security = "tls"', f'ca_file = "{dovecot.ca_file}"',
            "[accounts.smtp]", f'host = "{dovecot.host}"',
            f"port = {smtp.port if smtp else 1}", 'security = "starttls"', f'ca_file = "{dovecot.ca_file}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def make_config(dovecot, request):
    def make(tmp_path: Path, users: list[User], **general) -> Path:
        smtp = request.getfixturevalue("smtp_server")
        return write_config(tmp_path / "config.toml", dovecot, smtp, users, **general)
    return make
