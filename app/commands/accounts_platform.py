"""``replydesk accounts import --from instantly|smartlead``: the mailboxes a sending platform
already knows, with their servers where its API gives them and their warmup tags, so 500
mailboxes need no CSV. The platform is the ``[[sequencers]]`` entry of that type (its key from
``key_env``, ``key_command`` or the keyring). Passwords are not in any platform's API: each
mailbox still needs one (``replydesk accounts password ID``, or OAuth for Google and Microsoft).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from app import config_file
from app.config import parse_config
from app.errors import ConfigError, UsageError
from app.mail.sanitize import one_line
from app.sequencers.dispatch import SequencerTarget, judge
from app.sequencers.http import Request, Response, send
from app.sequencers.platforms import ImportedMailbox


def _table(mb: ImportedMailbox) -> dict[str, Any]:
    table: dict[str, Any] = {"email": mb.email, "provider": mb.provider}
    if mb.name:
        table["name"] = mb.name
    for side, host, port in (("imap", mb.imap_host, mb.imap_port), ("smtp", mb.smtp_host, mb.smtp_port)):
        server = {k: v for k, v in (("host", host), ("port", port)) if v}
        if mb.username and mb.username != mb.email and server:
            server["username"] = mb.username
        if server:
            table[side] = server
    if mb.warmup_tags:
        table["warmup_tag"] = mb.warmup_tags[0] if len(mb.warmup_tags) == 1 else list(mb.warmup_tags)
    return table


def import_from(kind: str, path: Path) -> int:
    config = config_file.check(path, config_file.read_text(path))
    chosen = [s for s in config.sequencers if s.type == kind]
    if not chosen:
        raise UsageError(f"no [[sequencers]] with type = \"{kind}\" in {path}: add one (with key_env or "
                         f"key_command) first; see config.example.toml")
    target = SequencerTarget(chosen[0])

    async def fetch() -> list[ImportedMailbox]:
        key = await asyncio.to_thread(target.secret)

        async def send_one(request: Request) -> Response:
            await target.limit.wait()
            return judge(await asyncio.to_thread(send, request, target.ca_file), 0.0)
        return await target.platform(key).mailboxes(send_one)

    try:
        mailboxes = asyncio.run(fetch())
    except UsageError:
        raise
    except Exception as exc:  # a refusal, no answer, no key: one line with the platform's words
        raise UsageError(f"{kind}: {one_line(str(exc))}") from None
    existing = {name for a in config.accounts for name in (a.id, a.email)}
    tables: list[dict[str, Any]] = []
    problems: list[str] = []
    skipped = 0
    for mb in mailboxes:
        if mb.email in existing:
            skipped += 1
            continue
        table = _table(mb)
        try:
            parse_config({"accounts": [table]})
        except ConfigError as exc:
            problems.append(f"{mb.email}: {str(exc).split('accounts[0].', 1)[-1]} (add it by hand)")
            continue
        existing.add(mb.email)
        tables.append(table)
    for problem in problems:
        print(problem, file=sys.stderr)
    if tables:
        config_file.append_accounts(path, tables)
    tagged = sum(1 for t in tables if "warmup_tag" in t)
    print(f"imported {len(tables)} mailboxes from {kind} into {path} ({tagged} with a warmup tag"
          f"{f'; {skipped} already configured' if skipped else ''}"
          f"{f'; {len(problems)} left out, see above' if problems else ''}). Each needs its password: "
          f"replydesk accounts password ID (Google and Microsoft mailboxes: auth = \"oauth2\"). "
          f"Then: replydesk doctor")
    return 1 if problems and not tables else 0
