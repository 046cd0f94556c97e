"""Opening and closing threads all day leaves nothing behind: the inbox's footer composes its keys
again each time the screen's bindings change, and the keys it removed must not stay reachable
(in Textual 8.2.8 their watchers stayed on the footer, and full garbage collections grew longer
with every thread opened)."""

from __future__ import annotations

import gc
from pathlib import Path

from app.ui.conversation import ConversationScreen
from tests.ui_seed import make_app, seed


def removed_footer_keys() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == "FooterKey" and not o.is_attached)


async def test_threads_opened_and_closed_leave_no_footer_keys_behind(tmp_path: Path) -> None:
    app = make_app(seed(tmp_path / "replydesk.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for _ in range(6):
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ConversationScreen)
            await pilot.press("escape")
            await pilot.pause()
        assert removed_footer_keys() == 0
