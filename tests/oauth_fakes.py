"""Local stand-ins for what cannot run here: the OS keyring and the OAuth providers' endpoints.

``file_keyring`` is a fixture selecting a file-based keyring (keyrings.alt, test-only) in a temp
dir for the duration of a test.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring


def make_file_keyring(directory: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(directory / "keyring_pass.cfg")
    return backend


@pytest.fixture
def file_keyring(tmp_path):
    previous = keyring.get_keyring()
    backend = make_file_keyring(tmp_path)
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
