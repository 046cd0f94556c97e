"""The wheel's message reader, compiled by mypyc (setup.py), reads mail as the Python does.

The wheel is built as pip builds it for a user, unpacked, and put first on the path of a second
pytest, which runs the mail tests against it: the parser's properties over generated hostile
input (compiled code checks every value against its declared type, where Python lets a wrong
annotation pass), every classification of the corpus and the fixtures as recorded, and the linear
time of every pattern.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compiled import ROOT, build, compiled_modules, environment

MAIL_TESTS = ["test_mail_parse.py", "test_mail_htmltext.py", "test_mail_properties.py", "test_mail_unchanged.py",
              "test_mail_library_tree.py", "test_mail_attachments.py", "test_mail_corpus.py",
              "test_mail_linear.py", "test_mail_reading.py", "test_mail_bounces.py", "test_mail_intent.py",
              "test_mail_autoreply.py", "test_mail_phrases.py", "test_mail_patterns_linear.py",
              # parse workers and their fork server, which import the reader from where the engine did
              "test_parse_forks.py", "test_regex_cache.py"]


@pytest.mark.timeout(1200)  # a wheel built, then some 600 tests in one process, on a machine the suite keeps busy
def test_the_wheel_holds_the_reader_compiled_and_it_reads_mail_as_the_python_does(tmp_path: Path) -> None:
    # one test, one build: tests spread over the suite's workers would each build the wheel
    wheel = build(tmp_path / "wheel")
    env = environment(wheel)

    assert {"app.mail.parse", "app.mail.mime"} <= set(compiled_modules())
    # each compiled module imported from the wheel, as a .so (tests.compiled.imported_from, in the wheel's process)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from tests.compiled import imported_from\n"
         "print('\\n'.join(imported_from(Path(sys.argv[1]))))", str(wheel)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", (f"not the wheel's compiled reader: {proc.stdout.strip()} (setup.py needs a C "
                                       "compiler, gcc, and the Python headers)")

    proc = subprocess.run([sys.executable, "-m", "app", "--version"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip().endswith("(message reader: compiled)")

    # --import-mode=append: pytest puts no folder of the checkout before the wheel; conftest stops
    # the run unless the reader is the wheel's compiled one
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--import-mode=append",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
         *(str(ROOT / "tests" / name) for name in MAIL_TESTS)],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    output = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 0, "\n".join(output[-40:])
    assert " passed" in output[-1] and "failed" not in output[-1]


def test_without_a_working_compiler_the_wheel_holds_the_python_and_runs(tmp_path: Path) -> None:
    # a compiler that fails on every file: none of the reader is compiled, none of it is missing
    wheel = build(tmp_path / "wheel", env=dict(os.environ, CC="false"))
    assert not list(wheel.rglob("*.so"))
    assert all((wheel / (name.replace(".", "/") + ".py")).is_file() for name in compiled_modules())
    proc = subprocess.run([sys.executable, "-m", "app", "--version"], cwd=tmp_path, env=environment(wheel),
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip().endswith("(message reader: pure Python)")
