"""Every password and token the test fixtures hand out, so the suite can prove none leaked to disk.

Its own module: pytest imports ``tests/conftest.py`` as ``conftest`` while test files import
``tests.conftest``, two module objects, so a registry defined there would be two sets.
"""

from __future__ import annotations

SECRETS: set[str] = set()
