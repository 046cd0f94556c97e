"""Whether scripts/demo and scripts/test must run ``pip install -e`` again (standard library only).

    python scripts/install_state.py check TARGET    exit 0: up to date; exit 1: prints why not
    python scripts/install_state.py record TARGET   after a successful install

replydesk is installed editable, so the checkout's code always runs; what an editable install
freezes is the package metadata: the dependencies (and extras), the entry points, the version.
Those come from pyproject.toml and app/__init__.py, so their hash, the Python that installed them
and where that Python's replydesk points are kept in .cache/install-TARGET.json (ignored by git).
Any of them changing, or the stamp missing, means a reinstall; TARGET names what was installed
(``demo``: replydesk, ``test``: replydesk[test]).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METADATA_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "app/__init__.py")


def installed_from() -> str:
    """Where this Python's replydesk distribution is installed from ('' when it is not)."""
    from importlib import metadata
    try:
        dist = metadata.distribution("replydesk")
    except metadata.PackageNotFoundError:
        return ""
    direct = dist.read_text("direct_url.json")
    if not direct:
        return f"a non-editable install {dist.version}"
    return str(json.loads(direct).get("url", ""))


def fingerprint(root: Path) -> dict[str, str]:
    state = {}
    for name in METADATA_FILES:
        path = root / name
        state[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
    state["python"] = f"{os.path.realpath(sys.executable)} {sys.version.split()[0]}"
    state["installed from"] = installed_from()
    return state


def stamp_path(root: Path, target: str) -> Path:
    return root / ".cache" / f"install-{target}.json"


SUPERSETS = {"demo": ("test",)}
"""An install of replydesk[test] serves the demo too."""


def why_install(root: Path, target: str) -> str | None:
    """None when the last install of ``target`` (or of one that includes it) still holds, else
    the reason to install again."""
    if any(_why(root, other) is None for other in SUPERSETS.get(target, ())):
        return None
    return _why(root, target)


def _why(root: Path, target: str) -> str | None:
    try:
        recorded = json.loads(stamp_path(root, target).read_text())
    except (OSError, ValueError):
        return "first install in this checkout"
    now = fingerprint(root)
    changed = [key for key in now if recorded.get(key) != now[key]]
    if not changed:
        return None
    if "python" in changed:
        return "a different Python than the last install"
    if "installed from" in changed:
        return "replydesk is not installed from this checkout in this Python"
    return f"{', '.join(changed)} changed since the last install"


def record(root: Path, target: str) -> None:
    path = stamp_path(root, target)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(fingerprint(root), indent=1) + "\n")
    tmp.replace(path)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("check", "record"):
        print("usage: install_state.py check|record TARGET", file=sys.stderr)
        return 2
    action, target = argv
    root = ROOT
    if action == "record":
        record(root, target)
        return 0
    reason = why_install(root, target)
    if reason is None:
        return 0
    print(reason)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
