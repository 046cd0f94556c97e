"""The noise settings of a config as the classifier takes them: app.mail never reads a config, and
app.config (which app.auth imports) does not import app.mail."""

from __future__ import annotations

from app.config import Config
from app.mail.noise import NoiseContext


def noise_context(config: Config, account_id: str) -> NoiseContext:
    """What the classifier needs to tell noise in mail received by ``account_id``: the general
    warmup tags and the mailbox's own, every configured mailbox's address, ``own_domains``."""
    tags = list(config.general.warmup_tags)
    for acc in config.accounts:
        if acc.id == account_id:
            tags += acc.warmup_tags
    return NoiseContext.of(tags, (a.email for a in config.accounts), config.general.own_domains)
