"""Instantly and Smartlead: what a decision made in replydesk becomes in the platform's API.

Facts from the platforms' public references:

- Instantly API v2 (bearer key). ``POST /api/v2/leads/update-interest-status`` with
  ``lead_email``, ``interest_value`` (1 interested, 2 meeting booked, 3 meeting completed,
  4 closed, 0 out of office, -1 not interested, -2 wrong person, -3 lost; null resets) and an
  optional ``campaign_id``; ``POST /api/v2/block-lists-entries/bulk-create`` with ``bl_values``;
  ``GET /api/v2/accounts`` pages with ``limit`` and ``starting_after`` (``items``,
  ``next_starting_after``), each account with its warmup tag (``warmup_custom_ftag``).
- Smartlead API v1 (key as the ``api_key`` query parameter, 10 requests per 2 s).
  ``GET /api/v1/leads/?email=`` finds a lead and its campaigns; ``POST
  /api/v1/campaigns/{campaign}/leads/{lead}/category`` sets its category (default ids:
  1 interested, 2 meeting request, 3 not interested, 4 do not contact, 5 information request)
  and with ``pause_lead`` stops its sequence; ``POST /api/v1/leads/add-domain-block-list``
  blocks addresses; ``GET /api/v1/email-accounts/`` pages with ``offset`` and ``limit``, each
  account with its IMAP and SMTP settings and warmup key (``warmup_details.warmup_key_id``).

Each platform turns an event into requests and sends them through ``send`` (the dispatcher's:
it raises on a refusal), so the logic here is plain and testable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.config import SequencerConfig
from app.sequencers.http import Request, Response

Send = Callable[[Request], Awaitable[Response]]

INSTANTLY_STATUS: dict[str, int | None] = {
    "interested": 1, "meeting": 2, "not_interested": -1, "wrong_person": -2, "out_of_office": 0,
    "uncategorized": None,
}
SMARTLEAD_CATEGORY: dict[str, int | None] = {
    "interested": 1, "meeting": 2, "not_interested": 3, "unsubscribe": 4,
}
# a lead in these categories must get no further step of the campaign
SMARTLEAD_PAUSE = {"not_interested", "unsubscribe", "wrong_person", "interested", "meeting"}
RESET = object()
"""The mapping's answer for "clear the status" (Instantly's null)."""


class Skip(Exception):
    """Nothing to send for this event (a category the mapping leaves out); done, with why."""


class Refused(Exception):
    """The platform said no for good (a wrong key, an unknown lead): dead, with its words."""


@dataclass(frozen=True)
class ImportedMailbox:
    email: str
    name: str
    warmup_tags: tuple[str, ...]
    imap_host: str | None = None
    imap_port: int | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    username: str | None = None
    provider: str = "generic"


class Platform:
    rate: tuple[int, float] = (10, 1.0)
    """At most this many requests per this many seconds."""
    defaults: dict[str, int | None] = {}

    def __init__(self, config: SequencerConfig, key: str) -> None:
        self.config = config
        self.api_key = key
        self.base = (config.base_url or self.default_base).rstrip("/")
        self.mapping = {**self.defaults, **config.statuses}

    default_base = ""

    def wants(self, event_type: str, payload: dict[str, Any]) -> bool:
        return event_type in ("reply.categorized", "suppression.added")

    def status_for(self, category: str) -> int | object | None:
        """The platform's value for a category: an int, RESET, or None (send nothing)."""
        if category not in self.mapping:
            return None
        value = self.mapping[category]
        return RESET if value is None else value

    async def deliver(self, event_type: str, payload: dict[str, Any], send: Send) -> str:
        raise NotImplementedError

    async def check(self, send: Send) -> str:
        """One cheap authenticated read: what ``replydesk sequencers test`` reports."""
        raise NotImplementedError

    async def mailboxes(self, send: Send) -> list[ImportedMailbox]:
        raise NotImplementedError


class Instantly(Platform):
    default_base = "https://api.instantly.ai"
    rate = (10, 1.0)
    defaults = INSTANTLY_STATUS

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def deliver(self, event_type: str, payload: dict[str, Any], send: Send) -> str:
        email = payload.get("email") or ""
        if event_type == "suppression.added":
            await send(Request.json("POST", f"{self.base}/api/v2/block-lists-entries/bulk-create",
                                    {"bl_values": [email]}, self._headers(), what=f"block {email}"))
            return f"{email} on the block list"
        category = payload.get("category") or "uncategorized"
        value = self.status_for(category)
        if value is None:
            raise Skip(f"no Instantly status for {category}")
        body: dict[str, Any] = {"lead_email": email, "interest_value": None if value is RESET else value}
        if self.config.campaign_id:
            body["campaign_id"] = self.config.campaign_id
        await send(Request.json("POST", f"{self.base}/api/v2/leads/update-interest-status", body,
                                self._headers(), what=f"set the interest of {email}"))
        return f"{email}: interest {body['interest_value']}"

    async def check(self, send: Send) -> str:
        resp = await send(Request.json("GET", f"{self.base}/api/v2/accounts", None, self._headers(),
                                       query={"limit": 1}, what="list accounts"))
        data = resp.json()
        return "key accepted" + (", mailboxes listed" if isinstance(data, dict) and "items" in data else "")

    async def mailboxes(self, send: Send) -> list[ImportedMailbox]:
        out: list[ImportedMailbox] = []
        after: str | None = None
        for _ in range(1000):
            query: dict[str, Any] = {"limit": 100}
            if after:
                query["starting_after"] = after
            resp = await send(Request.json("GET", f"{self.base}/api/v2/accounts", None, self._headers(),
                                           query=query, what="list accounts"))
            data = resp.json() or {}
            for item in data.get("items") or []:
                if not isinstance(item, dict) or not item.get("email"):
                    continue
                name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
                out.append(ImportedMailbox(
                    email=str(item["email"]), name=name, warmup_tags=_tags(item.get("warmup_custom_ftag")),
                    provider={2: "google", 3: "microsoft"}.get(_port(item.get("provider_code")) or 0, "generic")))
            after = data.get("next_starting_after")
            if not after:
                break
        return out


class Smartlead(Platform):
    default_base = "https://server.smartlead.ai"
    rate = (10, 2.0)
    defaults = SMARTLEAD_CATEGORY

    def _query(self, **more: Any) -> dict[str, Any]:
        return {"api_key": self.api_key, **more}

    async def deliver(self, event_type: str, payload: dict[str, Any], send: Send) -> str:
        email = payload.get("email") or ""
        if event_type == "suppression.added":
            await send(Request.json("POST", f"{self.base}/api/v1/leads/add-domain-block-list",
                                    {"domain_block_list": [email]}, query=self._query(), what=f"block {email}"))
            return f"{email} on the block list"
        category = payload.get("category") or "uncategorized"
        value = self.status_for(category)
        if value is None or value is RESET:
            raise Skip(f"no Smartlead category for {category}")
        found = await send(Request.json("GET", f"{self.base}/api/v1/leads/", None,
                                        query=self._query(email=email), what=f"find the lead {email}"))
        lead = found.json()
        if not isinstance(lead, dict) or not lead.get("id"):
            raise Refused(f"Smartlead has no lead {email}")
        campaigns = [c.get("campaign_id") for c in lead.get("lead_campaign_data") or [] if isinstance(c, dict)]
        campaigns = [c for c in campaigns if c is not None]
        if not campaigns:
            raise Refused(f"the lead {email} is in no Smartlead campaign")
        for campaign in campaigns:
            await send(Request.json(
                "POST", f"{self.base}/api/v1/campaigns/{campaign}/leads/{lead['id']}/category",
                {"category_id": value, "pause_lead": category in SMARTLEAD_PAUSE}, query=self._query(),
                what=f"set the category of {email} in campaign {campaign}"))
        return f"{email}: category {value} in {len(campaigns)} campaign(s)"

    async def check(self, send: Send) -> str:
        await send(Request.json("GET", f"{self.base}/api/v1/email-accounts/", None,
                                query=self._query(offset=0, limit=1), what="list email accounts"))
        return "key accepted"

    async def mailboxes(self, send: Send) -> list[ImportedMailbox]:
        out: list[ImportedMailbox] = []
        for page in range(1000):
            resp = await send(Request.json("GET", f"{self.base}/api/v1/email-accounts/", None,
                                           query=self._query(offset=page * 100, limit=100),
                                           what="list email accounts"))
            items = resp.json()
            if not isinstance(items, list) or not items:
                break
            for item in items:
                if not isinstance(item, dict) or not item.get("from_email"):
                    continue
                details = item.get("warmup_details")
                warmup: dict[str, Any] = details if isinstance(details, dict) else {}
                out.append(ImportedMailbox(
                    email=str(item["from_email"]), name=str(item.get("from_name") or ""),
                    warmup_tags=_tags(warmup.get("warmup_key_id") or item.get("warmup_key_id")),
                    imap_host=item.get("imap_host") or None, imap_port=_port(item.get("imap_port")),
                    smtp_host=item.get("smtp_host") or None, smtp_port=_port(item.get("smtp_port")),
                    username=item.get("username") or None,
                    provider={"GMAIL": "google", "OUTLOOK": "microsoft"}.get(str(item.get("type")), "generic")))
            if len(items) < 100:
                break
        return out


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _port(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


PLATFORMS: dict[str, type[Platform]] = {"instantly": Instantly, "smartlead": Smartlead}


def platform(config: SequencerConfig, key: str) -> Platform:
    return PLATFORMS[config.type](config, key)
