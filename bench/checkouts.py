"""The trees a bench measures side by side: this checkout, and with ``--base REF`` the code of
commit REF checked out in a temporary git worktree (removed afterwards, whatever happens)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def checkouts(base: str | None, here: str = "this checkout") -> Iterator[dict[str, Path]]:
    """Name -> folder of each tree: ``base REF`` first where ``base`` is given, then ``here``."""
    with tempfile.TemporaryDirectory(prefix="replydesk-bench-base-") as work:
        tree = Path(work) / "base"
        trees = {here: ROOT}
        try:
            if base:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), base],
                               check=True)
                trees = {f"base {base}": tree, **trees}
            yield trees
        finally:
            if tree.exists():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def code_first() -> None:
    """Import replydesk from the tree named after ``--child`` (a round run on this checkout's or
    the base's code), else from this checkout: its folder first on the path."""
    tree = sys.argv[sys.argv.index("--child") + 1] if "--child" in sys.argv else str(ROOT)
    sys.path.insert(0, tree)
