"""The noise settings of a config as the classifier takes them: app.mail never reads a config, and
app.config (which app.auth imports) does not import app.mail."""

from __future__ import annotations

from collections.abc import Callable

from app.config import Config
from app.mail.noise import NoiseContext


def noise_contexts(config: Config) -> Callable[[str], NoiseContext]:
    """What the classifier needs to tell noise in mail received by each mailbox: the general
    warmup tags and the mailbox's own, every configured mailbox's address, ``own_domains``.

    The set of addresses and the domains are built once and shared by every mailbox's context,
    and the mailboxes without tags of their own share one context: with thousands of mailboxes
    a context per mailbox, each holding every address, would grow with the square of their
    number (and the parse worker would be sent a new one at each change of mailbox)."""
    shared = NoiseContext.of(config.general.warmup_tags, (a.email for a in config.accounts),
                             config.general.own_domains)
    own: dict[str, NoiseContext] = {}
    for acc in config.accounts:
        if acc.warmup_tags and acc.id not in own:
            tags = NoiseContext.of([*config.general.warmup_tags, *acc.warmup_tags]).warmup_tags
            own[acc.id] = NoiseContext(tags, shared.own_addresses, shared.own_domains)
    return lambda account_id: own.get(account_id, shared)


def noise_context(config: Config, account_id: str) -> NoiseContext:
    """The noise context of mail received by ``account_id`` (one mailbox; ``noise_contexts``
    for many)."""
    return noise_contexts(config)(account_id)


def noise_settings(config: Config) -> tuple[object, ...]:
    """What the noise contexts of ``config`` are made of, to tell whether a new config changes
    them (cheap: no context is built)."""
    return (tuple(config.general.warmup_tags), tuple(config.general.own_domains),
            tuple((a.id, a.email, tuple(a.warmup_tags)) for a in config.accounts))
