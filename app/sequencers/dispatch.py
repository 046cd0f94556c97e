"""The engine's dispatcher: the store's event journal, delivered to every configured target.

One task per target (a sending platform or a webhook). Each round it queues the new events the
target wants (``fan_out``), then sends the due ones one at a time, within the target's rate, in
order per lead (a webhook: in order, full stop). A delivery is marked done right after the
receiver accepted it, so an engine killed between two deliveries sends neither twice nor never
(a kill in the instant between the answer and the mark resends once: receivers deduplicate on
``X-Replydesk-Delivery``, and a platform status set twice is set once).

- 2xx: done. A category the mapping leaves out: done, nothing sent.
- 429 or 503 with ``Retry-After``: tried again when the receiver asked.
- 5xx, 408, no answer, a hang past the timeout: tried again with backoff (1 s doubling to 5 min).
- Any other 4xx (a wrong key, an unknown lead): dead at once, with the receiver's words.
- 25 tries without success: dead. Dead deliveries show on the health screen and in
  ``replydesk sequencers``; ``replydesk sequencers retry`` gives them another go.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.auth.named import named_secret
from app.config import Config, SequencerConfig, WebhookConfig
from app.errors import ReplydeskError
from app.sequencers import webhooks
from app.sequencers.http import Request, Response, Unreachable, send
from app.sequencers.platforms import Platform, Refused, Skip, platform
from app.store.events import Delivery
from app.store.lifecycle import IllegalTransition

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25
MAX_BACKOFF = 300.0
POLL_SECONDS = 2.0
SECRET_RETRY = 60.0


class RetryLater(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


def sequencer_target(config: SequencerConfig) -> str:
    return f"sequencer:{config.key}"


def webhook_target(config: WebhookConfig) -> str:
    return f"webhook:{config.key}"


class RateLimit:
    def __init__(self, count: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count, self.per, self.clock = count, per, clock
        self.sent: deque[float] = deque()

    async def wait(self) -> None:
        while len(self.sent) >= self.count:
            age = self.clock() - self.sent[0]
            if age >= self.per:
                self.sent.popleft()
                continue
            await asyncio.sleep(self.per - age)
        self.sent.append(self.clock())


class Target:
    """What the dispatcher needs of a platform or a webhook."""

    key: str
    ca_file: Path | None
    limit: RateLimit

    def wants(self, event_type: str, payload: dict[str, Any]) -> bool:
        raise NotImplementedError

    def ordering(self, event_type: str, lead: str) -> str:
        raise NotImplementedError

    def secret(self) -> str:
        raise NotImplementedError

    async def deliver(self, delivery: Delivery, send: Callable[[Request], Any]) -> str:
        raise NotImplementedError


class SequencerTarget(Target):
    def __init__(self, config: SequencerConfig) -> None:
        self.config = config
        self.key = sequencer_target(config)
        self.ca_file = config.ca_file
        self._platform: Platform | None = None
        rate = platform(config, "").rate
        self.limit = RateLimit(*rate)

    def wants(self, event_type: str, payload: dict[str, Any]) -> bool:
        return event_type in ("reply.categorized", "suppression.added")

    def ordering(self, event_type: str, lead: str) -> str:
        return lead.lower()

    def secret(self) -> str:
        c = self.config
        return named_secret(f"sequencer {c.key}", env=c.key_env, command=c.key_command,
                            keyring_name=f"sequencer:{c.key}")

    def platform(self, key: str) -> Platform:
        if self._platform is None or self._platform.api_key != key:
            self._platform = platform(self.config, key)
        return self._platform

    async def deliver(self, delivery: Delivery, send: Callable[[Request], Any]) -> str:
        key = await asyncio.to_thread(self.secret)
        return await self.platform(key).deliver(delivery.type, delivery.payload, send)


class WebhookTarget(Target):
    def __init__(self, config: WebhookConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.key = webhook_target(config)
        self.ca_file = config.ca_file
        self.clock = clock
        self.limit = RateLimit(20, 1.0)

    def wants(self, event_type: str, payload: dict[str, Any]) -> bool:
        return webhooks.wants(self.config, event_type, payload)

    def ordering(self, event_type: str, lead: str) -> str:
        return ""  # a webhook gets every event in order

    def secret(self) -> str:
        c = self.config
        return named_secret(f"webhook {c.key}", env=c.secret_env, command=c.secret_command,
                            keyring_name=f"webhook:{c.key}")

    async def deliver(self, delivery: Delivery, send: Callable[[Request], Any]) -> str:
        secret = await asyncio.to_thread(self.secret)
        request = webhooks.request(self.config, secret, delivery.event, delivery.type, delivery.payload,
                                   delivery.created_at, int(self.clock()))
        await send(request)
        return "delivered"


def targets_of(config: Config, clock: Callable[[], float] = time.time) -> list[Target]:
    out: list[Target] = [SequencerTarget(s) for s in config.sequencers]
    out += [WebhookTarget(w, clock) for w in config.webhooks]
    return out


def event_types(config: Config) -> set[str]:
    types: set[str] = set()
    if config.sequencers:
        types |= {"reply.categorized", "suppression.added"}
    for hook in config.webhooks:
        types |= set(hook.events)
    return types


@dataclass
class Outcome:
    error: str | None = None
    retry_at: float | None = None


def judge(response: Response, now: float) -> Response:
    """A response as an outcome: returned when accepted, raised otherwise."""
    if 200 <= response.status < 300:
        return response
    words = f"HTTP {response.status}: {response.words()}"
    if response.status in (429, 503):
        raise RetryLater(words, response.retry_after(now))
    if response.status >= 500 or response.status == 408:
        raise RetryLater(words)
    raise Refused(words)


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** attempts) * random.uniform(0.8, 1.0)


class Dispatcher:
    """``run()`` until cancelled; ``kick()`` when the store changed (a label, a suppression)."""

    def __init__(self, db, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.targets = targets_of(config, clock)
        self.types = event_types(config)
        self._kick = asyncio.Event()

    def kick(self) -> None:
        self._kick.set()

    async def prepare(self) -> None:
        """Tell the store which events to record (none when nothing is configured)."""
        types = self.types
        await self.db.call(lambda s: s.set_event_types(types))

    async def run(self) -> None:
        await self.prepare()
        if not self.targets:
            return
        await asyncio.gather(*(self._run_target(t) for t in self.targets))

    async def _run_target(self, target: Target) -> None:
        while True:
            try:
                await self.round(target)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is busy or full: the next round tries again
                log.warning("%s: delivery round failed: %s", target.key, exc)
            try:
                await asyncio.wait_for(self._kick.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            self._kick.clear()

    async def round(self, target: Target) -> int:
        """Queue what is new, send what is due. Returns how many were sent."""
        await self.db.call(lambda s: s.fan_out(target.key, target.wants, target.ordering))
        due: list[Delivery] = await self.db.call(lambda s: s.due_deliveries(target.key, self.clock()))
        sent = 0
        for delivery in due:
            outcome = await self.deliver_one(target, delivery)
            try:
                await self.db.call(lambda s, d=delivery, o=outcome: s.finish_delivery(
                    target.key, d.event, error=o.error, retry_at=o.retry_at))
            except IllegalTransition as exc:
                # moved on meanwhile (the table refused our move): the row keeps what is there
                log.warning("%s: outcome of %s #%d not recorded: %s", target.key, delivery.type, delivery.event, exc)
                continue
            if outcome.error is None:
                sent += 1
            elif outcome.retry_at is None:
                log.warning("%s: gave up on %s #%d: %s", target.key, delivery.type, delivery.event, outcome.error)
        return sent

    async def deliver_one(self, target: Target, delivery: Delivery) -> Outcome:
        async def send_one(request: Request) -> Response:
            await target.limit.wait()
            response = await asyncio.to_thread(send, request, target.ca_file)
            return judge(response, self.clock())

        try:
            note = await target.deliver(delivery, send_one)
        except Skip as why:
            log.info("%s: %s #%d: nothing to send (%s)", target.key, delivery.type, delivery.event, why)
            return Outcome()
        except Refused as exc:
            return Outcome(error=str(exc))
        except ReplydeskError as exc:  # no key: wait for the user to give one
            return Outcome(error=str(exc), retry_at=self.clock() + SECRET_RETRY)
        except (RetryLater, Unreachable) as exc:
            attempts = delivery.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                return Outcome(error=f"gave up after {attempts} tries: {exc}")
            delay = exc.delay if isinstance(exc, RetryLater) and exc.delay is not None else backoff(attempts)
            return Outcome(error=str(exc), retry_at=self.clock() + delay)
        log.info("%s: %s #%d: %s", target.key, delivery.type, delivery.event, note)
        return Outcome()
