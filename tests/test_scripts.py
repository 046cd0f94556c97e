"""scripts/demo and scripts/test install again only when the package metadata changed.

The decision runs in a copy of the checkout's metadata files; nothing is pip-installed here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "app/__init__.py", "scripts/install_state.py", "scripts/python-env.sh"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def state(checkout: Path, action: str, target: str = "demo") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(checkout / "scripts/install_state.py"), action, target],
                          capture_output=True, text=True, timeout=60)


def test_a_fresh_checkout_installs_and_then_does_not_again(checkout: Path) -> None:
    first = state(checkout, "check")
    assert first.returncode == 1 and "first install" in first.stdout
    assert state(checkout, "record").returncode == 0
    again = state(checkout, "check")
    assert again.returncode == 0, again.stdout
    assert again.stdout == ""


def test_a_new_dependency_or_entry_point_installs_again(checkout: Path) -> None:
    state(checkout, "record")
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('dependencies = [\n', 'dependencies = [\n    "humanize>=4",\n'))
    changed = state(checkout, "check")
    assert changed.returncode == 1 and "pyproject.toml changed" in changed.stdout

    state(checkout, "record")
    pyproject.write_text(pyproject.read_text().replace('[project.scripts]\n', '[project.scripts]\nrd = "app.cli:main"\n'))
    assert "pyproject.toml changed" in state(checkout, "check").stdout


def test_a_new_version_installs_again(checkout: Path) -> None:
    state(checkout, "record")
    init = checkout / "app/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9'))
    changed = state(checkout, "check")
    assert changed.returncode == 1 and "app/__init__.py changed" in changed.stdout


def test_the_test_install_serves_the_demo_but_not_the_reverse(checkout: Path) -> None:
    state(checkout, "record", "test")
    assert state(checkout, "check", "demo").returncode == 0
    state(checkout, "record", "demo")
    (checkout / ".cache/install-test.json").unlink()
    assert "first install" in state(checkout, "check", "test").stdout


def test_the_scripts_skip_pip_when_the_install_holds(checkout: Path) -> None:
    """What scripts/demo runs before the demo: silent, and no pip, when nothing changed; when
    something did, it says so (pip is replaced here by a command that only records its call)."""
    state(checkout, "record")
    script = (f'set -euo pipefail; cd "{checkout}"; . scripts/python-env.sh; python="{sys.executable}"; '
              'pip_install demo .; echo ran-demo')
    quiet = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "ran-demo\n" and quiet.stderr == ""

    (checkout / "pyproject.toml").write_text((checkout / "pyproject.toml").read_text() + "\n# changed\n")
    fake_python = checkout / "fakepython"
    fake_python.write_text(f'#!/bin/sh\nif [ "$1" = "-m" ]; then echo "pip $*" >> "{checkout}/pip-calls"; exit 0; fi\n'
                           f'exec "{sys.executable}" "$@"\n')
    fake_python.chmod(0o755)
    loud = subprocess.run(["bash", "-c", script.replace(sys.executable, str(fake_python))],
                          capture_output=True, text=True, timeout=60)
    assert loud.returncode == 0, loud.stderr
    assert "installing . (pyproject.toml changed since the last install)" in loud.stderr
    assert (checkout / "pip-calls").read_text().startswith("pip -m pip install")
    assert state(checkout, "check").returncode == 0
