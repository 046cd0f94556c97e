"""replydesk's build: setuptools reads the metadata from pyproject.toml; this adds the message
reader, compiled to C by mypyc, to a wheel where a C compiler is at hand.

The modules listed under ``[tool.replydesk] compiled`` in pyproject.toml read every message the
engine fetches (split the MIME tree, decode the headers, cut the quoted history, read what a reply
means): compiled, a message is parsed in about 70 % of the CPU time and parsed and classified in
75-85 % (bench/README.md), and the code is the same Python, type-checked by the same mypy.

Pure Python is installed instead, with one line saying why, when:
- the install is editable (``pip install -e``, as scripts/demo and scripts/test do): the
  checkout's code must be what runs, and a compiled module would hide an edit of its source;
- ``REPLYDESK_PURE_PYTHON`` is set;
- mypyc cannot compile them, or the C compiler fails (no compiler, no Python headers).
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    """The source files to compile, from pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["tool"]["replydesk"]["compiled"])


def pure(why: str) -> list[Any]:
    print(f"replydesk: the message reader is installed as pure Python: {why}", file=sys.stderr)
    return []


BUILDS = {"bdist_wheel", "build", "build_ext", "install"}
"""The commands that build code; the others (egg_info, dist_info, sdist) read metadata only."""


def extensions() -> list[Any]:
    if "editable_wheel" in sys.argv or "develop" in sys.argv:
        return pure("the install is editable (the checkout's code runs as it is)")
    if not BUILDS & set(sys.argv[1:]):
        return []  # metadata only: nothing is compiled for it
    if os.environ.get("REPLYDESK_PURE_PYTHON"):
        return pure("REPLYDESK_PURE_PYTHON is set")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return pure("mypyc is not installed")
    try:
        return list(mypycify(compiled_modules(), opt_level="3", group_name="replydesk_reader"))
    except (Exception, SystemExit) as exc:  # mypyc reports its own errors, then exits
        return pure(f"mypyc could not compile it ({exc})")


class OptionalBuildExt(build_ext):
    """Builds the compiled modules all or none: where the compiler fails, the ones it built are
    removed (a module compiled against a shared library that was not built would not import)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            for path in self.get_outputs():
                Path(path).unlink(missing_ok=True)
            self.distribution.ext_modules = []
            pure(f"the C compiler failed ({type(exc).__name__}: its lines are above)")


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
