"""Outgoing webhooks: a JSON body per event, signed so the receiver can trust it.

Headers of every delivery:

- ``X-Replydesk-Event``: the event type (``reply.received``, ``reply.categorized``,
  ``reply.sent``, ``suppression.added``)
- ``X-Replydesk-Delivery``: the event's id, the same on every retry (deduplicate on it)
- ``X-Replydesk-Timestamp``: Unix seconds when this try was signed
- ``X-Replydesk-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the webhook's
  secret, of ``"<timestamp>.<body>"`` (reject old timestamps to stop replays)

``format = "slack"`` sends a Slack incoming-webhook message instead, for hot leads only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from app.config import WebhookConfig
from app.sequencers.http import Request

HOT = ("interested", "meeting")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def wants(config: WebhookConfig, event_type: str, payload: dict[str, Any]) -> bool:
    if event_type not in config.events:
        return False
    if config.format == "slack":
        return event_type in ("reply.received", "reply.categorized") and payload.get("category") in HOT
    return True


def request(config: WebhookConfig, secret: str, event_id: int, event_type: str, payload: dict[str, Any],
            created_at: float, timestamp: int) -> Request:
    if config.format == "slack":
        body = json.dumps(_slack(event_type, payload), ensure_ascii=False).encode()
    else:
        body = json.dumps({"id": event_id, "type": event_type, "created_at": created_at, "data": payload},
                          ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-Replydesk-Event": event_type,
               "X-Replydesk-Delivery": str(event_id), "X-Replydesk-Timestamp": str(timestamp),
               "X-Replydesk-Signature": signature(secret, timestamp, body)}
    return Request("POST", config.url, body, headers, what=f"{event_type} #{event_id}")


def _slack(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    who = payload.get("name") or payload.get("email") or "someone"
    category = str(payload.get("category") or "").replace("_", " ")
    # Slack reads <, > and & as markup: a prospect's words are escaped
    text = f"{who} ({payload.get('email', '')}): {category} · {payload.get('subject', '')}"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"text": f":fire: {text}", "unfurl_links": False}
