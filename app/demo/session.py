"""Set up and tear down one demo: a temporary directory, the demo's servers in a child process,
fresh passwords in this process's environment, and a real ``config.toml`` pointing at it all.

The config is an ordinary one (provider ``generic``, STARTTLS, ``ca_file`` for the demo's
certificate, ``password_env`` naming the variables set here), so the engine and the UI run on
it exactly as they run on anyone's mailboxes: nothing in them knows about the demo.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import selfrun
from app.config_file import render_account
from app.demo import scenario
from app.demo.world import PROSPECT_PASSWORD_ENV, sender_password_env
from app.errors import ReplydeskError

START_TIMEOUT = 30.0


class DemoError(ReplydeskError):
    """The demo's local servers did not start."""


@dataclass(frozen=True)
class Demo:
    directory: Path
    config_path: Path
    database: Path
    log_file: Path
    imap_port: int
    smtp_port: int
    ca_file: Path
    prospect_password_env: str


def _toml_str(value: str | Path) -> str:
    return json.dumps(str(value), ensure_ascii=False)


DEMO_TEMPLATES = {
    "calendar": "Hi {first_name|there},\n\nGreat to hear. Pick any slot that suits you: "
                "https://cal.example.com/{my_first_name}\n\nBest,\n{my_first_name}",
    "pricing": "Hi {first_name|there},\n\nHappy to share pricing for {company|your team}. "
               "How many seats would you need?\n\n{my_first_name}",
    "referral": "Thanks for the pointer, I will reach out to {referral|them} directly.\n\n{my_first_name}",
}


def write_config(demo_dir: Path, imap_port: int, smtp_port: int, ca_file: Path,
                 poll_interval: float = 30.0) -> Path:
    """The demo's config.toml: one account per sending mailbox, nothing secret inside."""
    lines = [
        "# Written by `replydesk demo`; removed when the demo ends.",
        "[general]",
        f"database = {_toml_str(demo_dir / 'replydesk.db')}",
        f"log_file = {_toml_str(demo_dir / 'replydesk.log')}",
        f"poll_interval_seconds = {poll_interval}",
        "",
        "# Saved replies: ctrl+t in the compose screen",
        "[templates]",
        *(f"{name} = {_toml_str(text)}" for name, text in DEMO_TEMPLATES.items()),
    ]
    # the accounts are written as `replydesk accounts add` writes them
    accounts = [render_account({
        "email": sender.email, "name": sender.name, "provider": "generic",
        "password_env": sender_password_env(i), "signature": f"{sender.name} · {sender.campaign.product}",
        **{side: {"host": "127.0.0.1", "port": port, "security": "starttls", "ca_file": str(ca_file)}
           for side, port in (("imap", imap_port), ("smtp", smtp_port))},
    }) for i, sender in enumerate(scenario.SENDERS)]
    path = demo_dir / "config.toml"
    path.write_text("\n".join(lines) + "\n" + "".join("\n" + a for a in accounts), encoding="utf-8")
    return path


@contextmanager
def _passwords() -> Iterator[None]:
    """Fresh random passwords for this run, in the environment only, gone afterwards."""
    names = [sender_password_env(i) for i in range(len(scenario.SENDERS))] + [PROSPECT_PASSWORD_ENV]
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = secrets.token_urlsafe(18)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()  # the servers stop when their stdin closes
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _wait_ready(proc: subprocess.Popen[bytes], demo_dir: Path) -> dict[str, Any]:
    """The servers print one JSON line with their ports once mail is seeded."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if sel.select(START_TIMEOUT):
            line = proc.stdout.readline()
            if line:
                return dict(json.loads(line))
    proc.kill()
    raise DemoError("the demo's local IMAP and SMTP servers did not start",
                    _last_line(demo_dir / "world.log") or "is the temporary directory ($TMPDIR) writable?")


@contextmanager
def start_demo(*, interval: float = 6.0, answer_delay: float = 4.0, seed: int = 7,
               poll_interval: float = 30.0) -> Iterator[Demo]:
    """Start the demo's servers and write its config; on exit stop them and remove every file.

    ``interval``: seconds between new replies; ``answer_delay``: seconds before a prospect
    answers a reply sent to them.
    """
    demo_dir = Path(tempfile.mkdtemp(prefix="replydesk-demo-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        with _passwords():
            # its own session: Ctrl-C in the terminal goes to the inbox, which then stops us
            with open(demo_dir / "world.log", "ab") as errors:
                proc = subprocess.Popen(
                    selfrun.argv("app.demo.world", str(demo_dir), "--interval", str(interval),
                                 "--answer-delay", str(answer_delay), "--seed", str(seed)),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, start_new_session=True,
                    env=selfrun.env())
            info = _wait_ready(proc, demo_dir)
            imap_port, smtp_port = int(info["imap_port"]), int(info["smtp_port"])
            ca_file = Path(info["ca_file"])
            config_path = write_config(demo_dir, imap_port, smtp_port, ca_file, poll_interval)
            yield Demo(directory=demo_dir, config_path=config_path, database=demo_dir / "replydesk.db",
                       log_file=demo_dir / "replydesk.log", imap_port=imap_port, smtp_port=smtp_port,
                       ca_file=ca_file, prospect_password_env=PROSPECT_PASSWORD_ENV)
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(demo_dir, ignore_errors=True)
