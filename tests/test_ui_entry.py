"""`replydesk` with no subcommand opens the inbox in a real terminal (a pty), 80x24, 256 colours."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from pathlib import Path

from app.engine import EngineLock
from tests.ui_seed import seed


def read_until(fd: int, needles: tuple[bytes, ...], timeout: float) -> bytes:
    """What the terminal received until every one of ``needles`` was seen (or the timeout)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not all(n in seen for n in needles) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def run_replydesk(config: Path, size: tuple[int, int], *until: bytes) -> tuple[bytes, int]:
    """Start `replydesk` (no subcommand) in a pty of ``size``, read until ``until``, press q."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none", REPLYDESK_CONFIG=str(config))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal has its size before replydesk starts and reads it
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        os.execvpe(sys.executable, [sys.executable, "-m", "app"], env)
    try:
        screen = read_until(fd, until, 30)
        os.write(fd, b"q")
        read_until(fd, (b"\x00never",), 5)
        _, status = os.waitpid(pid, 0)
        return screen, os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.close(fd)


def write_config(tmp_path: Path, theme: str = "replydesk-dark") -> Path:
    db = seed(tmp_path / "replydesk.db")
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\ntheme = "{theme}"\n')
    return config


def test_replydesk_without_subcommand_opens_the_inbox(tmp_path: Path) -> None:
    screen, code = run_replydesk(write_config(tmp_path, "replydesk-contrast"), (80, 24), b"Replies", b"Carol Diaz")
    assert b"Replies" in screen
    assert b"Carol Diaz" in screen
    assert b"\x1b[38;5;" in screen  # 256 colours on a 256-colour terminal, never 24-bit
    assert b"\x1b[38;2;" not in screen
    assert code == 0


def test_engine_runs_in_process_unless_replydesk_sync_holds_the_lock(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    screen, code = run_replydesk(config, (120, 30), b"engine: in-process", b"Carol Diaz")
    assert b"engine: in-process" in screen and code == 0
    lock = EngineLock(tmp_path / "replydesk.db")  # as a running `replydesk sync` holds it
    lock.acquire()
    try:
        screen, code = run_replydesk(config, (120, 30), b"engine: replydesk sync", b"Carol Diaz")
    finally:
        lock.release()
    assert b"engine: replydesk sync" in screen and code == 0
