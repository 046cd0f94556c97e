"""replydesk's wheel as pip builds it (setup.py: the message reader compiled by mypyc), unpacked
into a folder to put first on ``sys.path``. For tests/test_compiled.py and bench/ (``--compiled``)."""

from __future__ import annotations

import argparse
import compileall
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app", "pyproject.toml", "setup.py", "README.md", "LICENSE")
"""What the wheel is built from (a copy: the build writes its own folders next to the sources)."""


def compiled_modules() -> list[str]:
    """The modules pyproject.toml names for compiling (``[tool.replydesk] compiled``)."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        files = tomllib.load(f)["tool"]["replydesk"]["compiled"]
    return [file.removesuffix(".py").replace("/", ".") for file in files]


def build(dest: Path, env: dict[str, str] | None = None) -> Path:
    """Build the wheel in ``dest`` (pip run with ``env``, default this environment) and unpack it
    there as an installer would (its Python byte-compiled); return the unpacked folder. Raises
    RuntimeError with pip's last lines where the build fails."""
    source = dest / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = dest / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                           "-w", str(wheels), str(source)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError("pip could not build the wheel:\n" + "\n".join((proc.stdout + proc.stderr).splitlines()[-20:]))
    [wheel] = wheels.glob("replydesk-*.whl")
    tree = dest / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tree)
    # what an installer puts beside the rest (a wheel that is not pure holds its Python there)
    for scheme in ("purelib", "platlib"):
        for part in tree.glob(f"*.data/{scheme}"):
            shutil.copytree(part, tree, dirs_exist_ok=True)
            shutil.rmtree(part)
    # and the byte code of its Python modules, as pip writes it when it installs a wheel: without
    # it each process (a parse worker's fork server, say) would compile them again as it starts
    compileall.compile_dir(tree / "app", quiet=1)
    return tree


def imported_from(tree: Path) -> list[str]:
    """Each compiled module this process imports from elsewhere than ``tree`` or as Python: where
    it comes from. Empty where all are the compiled ones."""
    wrong = []
    for name in compiled_modules():
        file = Path(importlib.import_module(name).__file__ or "")
        if not file.is_relative_to(tree) or file.suffix != ".so":
            wrong.append(f"{name} from {file}")
    return wrong


def environment(tree: Path) -> dict[str, str]:
    """This environment for a process that runs the unpacked wheel at ``tree``: it first on the
    path, then the checkout (for tests/ and bench/: the checkout's app comes second), and
    ``REPLYDESK_COMPILED_TREE`` naming it (checked by ``compiled_first`` and tests/conftest.py)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), str(ROOT)]), REPLYDESK_COMPILED_TREE=str(tree))
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def add_compiled_option(ap: argparse.ArgumentParser) -> None:
    """A bench script's ``--compiled``, which it answers with ``rerun_compiled``."""
    ap.add_argument("--compiled", action="store_true",
                    help="build the wheel and run with its message reader compiled by mypyc (setup.py)")


def parse_args_compiled(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """A bench script's arguments with ``--compiled``; given it, the script is run again with the
    wheel's reader (``rerun_compiled``) and this process ends with its status."""
    add_compiled_option(ap)
    args = ap.parse_args()
    if args.compiled:
        sys.exit(rerun_compiled(sys.argv))
    return args


def rerun_compiled(argv: list[str]) -> int:
    """For a bench script's ``--compiled``: build the wheel, then run the script again (``argv``
    without the flag) with the wheel's compiled reader first on the path; its exit status."""
    with tempfile.TemporaryDirectory(prefix="replydesk-wheel-") as dest:
        print("building the wheel (the message reader compiled by mypyc) …", file=sys.stderr, flush=True)
        tree = build(Path(dest))
        return subprocess.run([sys.executable, *[a for a in argv if a != "--compiled"]],
                              env=environment(tree)).returncode


def compiled_first() -> str:
    """Where ``rerun_compiled`` runs a script: the wheel's folder put back first on the path (the
    script put the checkout there), and a word for its figures. Checked: the reader is compiled."""
    tree = os.environ.get("REPLYDESK_COMPILED_TREE")
    if not tree:
        return "pure Python"
    sys.path.insert(0, tree)
    if wrong := imported_from(Path(tree)):
        raise SystemExit(f"not the compiled reader: {wrong}")
    return "compiled by mypyc"
