"""The engine's follow-up clock: schedules what waits and wakes what is due.

Runs in the engine (so a headless ``replydesk sync`` fires snoozes and reminders while no
terminal is open), on the engine's store thread, every ``followup_check_seconds`` and whenever
the engine is told the store changed. ``clock`` is injectable: tests move it by days without
sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from app.config import GeneralConfig
from app.when import add_business_days, local_now, morning_after

log = logging.getLogger(__name__)


class FollowupPolicy:
    """The user's follow-up settings as the two functions the store's scheduler takes."""

    def __init__(self, general: GeneralConfig) -> None:
        self.general = general
        self.tz = general.tz()

    def no_answer_after(self) -> Callable[[float], float] | None:
        days = self.general.follow_up_days
        if not days:
            return None
        return lambda since: add_business_days(local_now(since, self.tz), days).timestamp()

    def ooo_wake(self, t: float) -> Callable[[str], float | None] | None:
        days_after = self.general.ooo_follow_up_days
        if days_after == "off":
            return None
        now = local_now(t, self.tz)

        def wake(iso: str) -> float | None:
            try:
                back = date.fromisoformat(iso)
            except ValueError:
                return None
            return morning_after(back, int(days_after), now).timestamp()
        return wake


class FollowupClock:
    def __init__(self, db, general: GeneralConfig, clock: Callable[[], float]) -> None:
        self.db = db
        self.policy = FollowupPolicy(general)
        self.clock = clock
        self._kick = asyncio.Event()
        self.woken: list[int] = []
        """Every conversation this clock brought back (for the log and tests)."""

    def kick(self) -> None:
        """Look now (the store changed, or a test moved the clock)."""
        self._kick.set()

    async def tick(self) -> list[int]:
        t = self.clock()
        policy = self.policy
        no_answer, ooo = policy.no_answer_after(), policy.ooo_wake(t)

        def work(s) -> list[int]:
            s.schedule_followups(no_answer_after=no_answer, ooo_wake=ooo)
            return s.wake_due(t)
        woken = await self.db.call(work)
        if woken:
            log.info("follow-ups: %d conversation(s) came back", len(woken))
            self.woken.extend(woken)
        return woken

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a store error: try again at the next tick
                log.warning("follow-ups: check failed: %s", exc)
            try:
                await asyncio.wait_for(self._kick.wait(), self.policy.general.followup_check_seconds)
            except TimeoutError:
                pass
            self._kick.clear()
