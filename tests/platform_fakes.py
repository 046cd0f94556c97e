"""Local stand-ins for the sending platforms and a webhook receiver, over real HTTPS sockets.

``FakePlatform`` speaks the documented endpoints of Instantly API v2 and Smartlead API v1 that
replydesk uses, checks the key the way each platform takes it, records every request, and can
misbehave on cue: answer 429 with ``Retry-After``, 5xx, drop the connection (down), or hang.
It also receives webhooks and checks their signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.servers.https import LoopbackHttps


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes
    at: float = field(default_factory=time.time)


class FakePlatform:
    def __init__(self, directory: Path, *, key: str, webhook_secret: str = "") -> None:
        self.key = key
        self.webhook_secret = webhook_secret
        self.received: list[Received] = []
        self.script: list[tuple[int, dict[str, str], Any]] = []
        """Answers to give before behaving (status, headers, body), first first."""
        self.down = False
        """Drop every connection without an answer, as a receiver that is down."""
        self.hang = threading.Event()
        self.hanging = False
        self.accounts: list[dict[str, Any]] = []
        self.leads: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server = LoopbackHttps(directory, _Handler, self)
        self.ca_file, self.base = self.server.ca_file, self.server.base

    def stop(self) -> None:
        self.hang.set()
        self.server.stop()

    def calls(self, path_part: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if path_part in r.path]

    def answer(self, handler: _Handler, method: str, parts, body: Any, raw: bytes) -> None:
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.received.append(Received(method, parts.path, query, headers, body, raw))
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            return handler.reply(*scripted)
        path = parts.path
        if path.startswith("/hook"):
            ts, sig = headers.get("x-replydesk-timestamp", ""), headers.get("x-replydesk-signature", "")
            want = "sha256=" + hmac.new(self.webhook_secret.encode(), ts.encode() + b"." + raw,
                                        hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig):
                self.bad_signatures += 1
                return handler.reply(401, {}, {"error": "bad signature"})
            return handler.reply(200, {}, {"ok": True})
        if path.startswith("/api/v2/"):  # Instantly: a bearer key
            if headers.get("authorization") != f"Bearer {self.key}":
                return handler.reply(401, {}, {"message": "Invalid API key"})
            if path == "/api/v2/leads/update-interest-status" and method == "POST":
                if not isinstance(body, dict) or "lead_email" not in body or "interest_value" not in body:
                    return handler.reply(400, {}, {"message": "lead_email and interest_value are required"})
                return handler.reply(200, {}, {"message": "Lead interest status update background job submitted"})
            if path == "/api/v2/block-lists-entries/bulk-create" and method == "POST":
                return handler.reply(200, {}, {"created_count": len(body.get("bl_values", []))})
            if path == "/api/v2/accounts" and method == "GET":
                start = 0
                if query.get("starting_after"):
                    start = next(i for i, a in enumerate(self.accounts) if a["email"] == query["starting_after"]) + 1
                limit = int(query.get("limit", 100))
                page = self.accounts[start:start + limit]
                more = start + limit < len(self.accounts)
                return handler.reply(200, {}, {"items": page,
                                               "next_starting_after": page[-1]["email"] if more and page else None})
            return handler.reply(404, {}, {"message": "Not found"})
        if path.startswith("/api/v1/"):  # Smartlead: the key as a query parameter
            if query.get("api_key") != self.key:
                return handler.reply(401, {}, {"message": "Invalid API key"})
            if path == "/api/v1/leads/" and method == "GET":
                lead = self.leads.get(query.get("email", ""))
                return handler.reply(200, {}, lead or {})
            if path.startswith("/api/v1/campaigns/") and path.endswith("/category") and method == "POST":
                return handler.reply(200, {}, {"ok": True, "data": "Category updated"})
            if path == "/api/v1/leads/add-domain-block-list" and method == "POST":
                return handler.reply(200, {}, {"ok": True})
            if path == "/api/v1/email-accounts/" and method == "GET":
                offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
                return handler.reply(200, {}, self.accounts[offset:offset + limit])
            return handler.reply(404, {}, {"message": "Not found"})
        return handler.reply(404, {}, {"message": "Not found"})


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake-platform/1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        fake: FakePlatform = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if fake.down:
            self.close_connection = True
            self.connection.close()
            return
        if fake.hanging:
            fake.hang.wait(60)
            self.close_connection = True
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fake.answer(self, method, urlsplit(self.path), body, raw)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def reply(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
