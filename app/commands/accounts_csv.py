"""Read mailboxes from a CSV file as cold-email platforms export them.

Column names are matched case-insensitively, with spaces, dashes and underscores alike:
``email``/``from_email``, ``name``/``from_name`` (or ``first_name`` + ``last_name``), ``imap_host``,
``imap_port``, ``imap_username``/``imap_user``/``imap_user_name``, ``imap_password``, the same four
for SMTP, and optionally ``username``/``user_name`` and ``password`` (both sides), ``provider``, ``id``,
``imap_security``/``smtp_security``, and the mailbox's warmup tag (``warmup_tag``, or the vendors'
names: Smartlead's ``warmup_key_id``, Instantly's ``warmup_custom_ftag``). Other columns are ignored and reported. That covers Instantly's
and Smartlead's mailbox exports as well as hand-made sheets.

Every row is checked before anything is stored; the caller imports all rows or none.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import PRESETS, parse_config
from app.errors import ConfigError

ALIASES = {
    "email": "email", "email_address": "email", "from_email": "email", "mailbox": "email",
    "name": "name", "from_name": "name", "sender_name": "name", "display_name": "name",
    "first_name": "first_name", "last_name": "last_name",
    "id": "id", "provider": "provider", "password": "password",
    # one login for both sides (Smartlead's smtp columns are plain user_name/password)
    "username": "username", "user_name": "username", "login": "username",
    # the tag a warmup network stamps on this mailbox's warmup mail (Smartlead, Instantly)
    "warmup_tag": "warmup_tag", "warmup_key_id": "warmup_tag", "warmup_custom_ftag": "warmup_tag",
}
for _s in ("imap", "smtp"):
    ALIASES.update({
        f"{_s}_host": f"{_s}_host", f"{_s}_server": f"{_s}_host", f"{_s}_hostname": f"{_s}_host",
        f"{_s}_port": f"{_s}_port",
        f"{_s}_username": f"{_s}_username", f"{_s}_user": f"{_s}_username",
        f"{_s}_login": f"{_s}_username", f"{_s}_user_name": f"{_s}_username",
        f"{_s}_password": f"{_s}_password", f"{_s}_pass": f"{_s}_password",
        f"{_s}_security": f"{_s}_security",
    })

IMPLICIT_TLS_PORTS = {993, 465}
PROVIDER_BY_HOST = {p.imap[0]: name for name, p in PRESETS.items() if p.imap[0]}


def normalize(column: str) -> str:
    return re.sub(r"[\s\-_]+", "_", column.strip().lower()).strip("_")


@dataclass
class ImportedAccount:
    table: dict[str, Any]
    """The ``[[accounts]]`` table to append (no secrets)."""
    secrets: dict[str, str] = field(repr=False, default_factory=dict)
    """kind ("imap", "smtp") -> password, for the keyring."""

    @property
    def email(self) -> str:
        return self.table["email"]


@dataclass
class CsvResult:
    accounts: list[ImportedAccount]
    problems: list[str]
    ignored_columns: list[str]


def _port(row: dict[str, str], side: str, problems: list[str]) -> int | None:
    raw = row.get(f"{side}_port", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        problems.append(f"{side}_port: expected a port number 1-65535, got {raw!r}")
        return None
    return int(raw)


def _side(row: dict[str, str], side: str, problems: list[str]) -> dict[str, Any]:
    port = _port(row, side, problems)
    security = row.get(f"{side}_security", "").strip().lower() or None
    if security in ("ssl", "ssl/tls", "implicit"):
        security = "tls"
    if security is None and port is not None:
        security = "tls" if port in IMPLICIT_TLS_PORTS else "starttls"
    return {"host": row.get(f"{side}_host", "").strip() or None, "port": port, "security": security,
            "username": (row.get(f"{side}_username", "") or row.get("username", "")).strip() or None}


def _name(row: dict[str, str]) -> str | None:
    full = row.get("name", "").strip()
    if not full:
        full = " ".join(p for p in (row.get("first_name", "").strip(), row.get("last_name", "").strip()) if p)
    return full or None


def _row_account(row: dict[str, str]) -> tuple[ImportedAccount | None, list[str]]:
    problems: list[str] = []
    email = row.get("email", "").strip()
    if not email:
        return None, ["email: missing"]
    imap, smtp = _side(row, "imap", problems), _side(row, "smtp", problems)
    provider = row.get("provider", "").strip().lower() or PROVIDER_BY_HOST.get((imap["host"] or "").lower(),
                                                                               "generic")
    if imap["username"] == email:
        imap["username"] = None
    if smtp["username"] == email:
        smtp["username"] = None
    table: dict[str, Any] = {"id": row.get("id", "").strip() or None, "email": email,
                             "name": _name(row), "provider": provider,
                             "warmup_tag": row.get("warmup_tag", "").strip() or None,
                             "imap": imap, "smtp": smtp}
    shared = row.get("password", "")
    imap_pw = row.get("imap_password", "") or shared
    smtp_pw = row.get("smtp_password", "") or shared or imap_pw
    if not imap_pw:
        problems.append("imap_password: missing (or a password column)")
    if problems:
        return None, problems
    table = _without_none(table)
    try:
        parse_config({"accounts": [table]})
    except ConfigError as exc:
        # "config: accounts[0].imap.host: required ..." -> "imap.host: required ..."
        return None, [str(exc).split("accounts[0].", 1)[-1]]
    secrets = {"imap": imap_pw}
    if smtp_pw != imap_pw:
        secrets["smtp"] = smtp_pw
    return ImportedAccount(table, secrets), []


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def read_accounts(path: Path, existing: set[str]) -> CsvResult:
    """Parse and check every row; ``existing``: ids and emails already configured."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if not header:
        raise ConfigError(f"{path}: empty file (expected a header row with an email column)")
    columns = [ALIASES.get(normalize(c)) for c in header]
    ignored = [c for c, known in zip(header, columns) if known is None and c.strip()]
    if "email" not in columns:
        raise ConfigError(f"{path}:1: no email column in the header")

    accounts: list[ImportedAccount] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    next_line = reader.line_num + 1
    for cells in reader:
        line, next_line = next_line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, str] = {}
        for col, cell in zip(columns, cells):
            # two columns for one field (a warmup_tag and a warmup_key_id): the first filled wins
            if col is not None and (col not in row or not row[col].strip()):
                row[col] = cell
        account, row_problems = _row_account(row)
        for problem in row_problems:
            problems.append(f"{path}:{line}: {problem}")
        if account is None:
            continue
        key = account.table.get("id") or account.email
        for name in {key, account.email}:
            if name in existing:
                problems.append(f"{path}:{line}: {name} is already configured")
            elif name in first_line:
                problems.append(f"{path}:{line}: duplicate {name} (first on line {first_line[name]})")
            else:
                first_line[name] = line
        accounts.append(account)
    if not accounts and not problems:
        problems.append(f"{path}: no accounts in the file")
    return CsvResult(accounts, problems, ignored)
