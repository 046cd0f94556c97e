"""A loopback HTTPS server for the fakes of what cannot be reached from here (OAuth endpoints,
the sending platforms, webhook receivers): a certificate made for it, a thread serving it."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from app.demo.certs import make_certificate


class LoopbackHttps:
    """``handler`` serves each request; it reaches ``owner`` as ``self.server.fake``."""

    def __init__(self, directory: Path, handler: type[BaseHTTPRequestHandler], owner: object) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file, key = make_certificate(directory)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = owner  # type: ignore[attr-defined]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca_file, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
