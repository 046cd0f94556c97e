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

from tests.ui_seed import seed


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_replydesk_without_subcommand_opens_the_inbox(tmp_path: Path) -> None:
    db = seed(tmp_path / "replydesk.db")
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndatabase = "{db}"\ntheme = "replydesk-contrast"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none", REPLYDESK_CONFIG=str(config))
    pid, fd = pty.fork()
    if pid == 0:  # the child: replydesk in a terminal of 80x24
        os.execvpe(sys.executable, [sys.executable, "-m", "app"], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        screen = read_until(fd, b"Replies", 30)
        assert b"Replies" in screen
        assert b"Carol Diaz" in screen
        assert b"\x1b[38;2;" not in screen  # no 24-bit colour on a 256-colour terminal
        os.write(fd, b"q")
        read_until(fd, b"\x00never", 5)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.close(fd)
