"""One HTTPS request, with the standard library's client over replydesk's TLS context.

Blocking: the dispatcher runs it in a thread. Network failures are ``Unreachable``; every HTTP
answer, good or bad, is a ``Response`` for the caller to judge.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from app.tls import client_context

TIMEOUT = 20.0
MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    what: str = ""
    """What the request does, for messages ("set interest of a@b.c")."""

    @classmethod
    def json(cls, method: str, url: str, data: Any, headers: dict[str, str] | None = None,
             query: dict[str, Any] | None = None, what: str = "") -> Request:
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
        body = None if data is None else json.dumps(data, separators=(",", ":")).encode()
        return cls(method, url, body, {"Content-Type": "application/json", "Accept": "application/json",
                                       **(headers or {})}, what)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def words(self) -> str:
        """The receiver's own words about a refusal, short and on one line."""
        data = self.json()
        if isinstance(data, dict):
            for key in ("message", "error", "detail", "error_description", "msg"):
                if isinstance(data.get(key), str):
                    return " ".join(data[key].split())[:200]
        text = self.body.decode("utf-8", "replace")
        return " ".join(text.split())[:200] or f"HTTP {self.status}"

    def retry_after(self, now: float) -> float | None:
        """Seconds to wait that a 429 or 503 asks for (``Retry-After``: seconds or a date)."""
        value = self.headers.get("retry-after", "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None


class Unreachable(Exception):
    """No HTTP answer: DNS, connection, TLS or a timeout."""


def send(request: Request, ca_file: Path | None = None, timeout: float | None = None) -> Response:
    timeout = TIMEOUT if timeout is None else timeout
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=client_context(ca_file))
        else:
            conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
        try:
            conn.request(request.method, path, body=request.body,
                         headers={"User-Agent": "replydesk", **request.headers})
            resp = conn.getresponse()
            body = resp.read(MAX_BODY)
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        finally:
            conn.close()
    except TimeoutError:
        raise Unreachable(f"{host}: no answer within {timeout:.0f} s") from None
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise Unreachable(f"{host}: {reason}") from None


def now() -> float:
    return time.time()
