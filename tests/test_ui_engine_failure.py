"""The in-process engine that fails to start is never silent: the status bar, the health screen
(with the fix) and the notice line say so, instead of "engine: in-process"."""

from __future__ import annotations

from app.config import load_config
from app.engine import Engine
from app.ui.health import HealthScreen
from tests.ui_seed import make_app, screen_text, seed, until


async def test_an_engine_that_cannot_start_says_why_everywhere(tmp_path):
    db = seed(tmp_path / "replydesk.db")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log's folder should be")
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[general]\ndatabase = "{db}"\nlog_file = "{blocker / "replydesk.log"}"\n')
    config = load_config(config_path)
    app = make_app(db, config)
    app.engine = Engine(config)
    async with app.run_test(size=(160, 30)) as pilot:
        assert await until(pilot, lambda: "engine: failed" in screen_text(app))
        assert "engine: in-process" not in screen_text(app)
        assert app.engine is None and app.engine_failure is not None
        assert "not-a-directory" in app.engine_failure[0]
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HealthScreen)
        text = screen_text(app)
        assert "Engine: failed to start" in text and "log_file" in text
