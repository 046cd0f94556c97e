"""What a message's delivery headers cost the reader: one short reply parsed with only the headers
its sender wrote, with the three an LMTP delivery adds (Dovecot's, as the other benches' mail has
them), and with those a webmail provider adds on the way (Received hops, ARC, DKIM, SPF results,
its own X- headers: 23 headers, 4 KB, folded as such mail folds them). The baseline is the standard
library's parser (``policy.default``, ``get_body``, ``get_content``) on the same bytes, in the
same run.

    python bench/bench_headers.py [--rounds 5] [--compiled]

Prints, for each header set, the reader's parse and the standard library's in µs a message (best
of ``--rounds``) and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from tests.compiled import compiled_first, rerun_compiled  # noqa: E402

READER = compiled_first()

from bench_mail import stdlib_baseline  # noqa: E402

from app.mail import parse  # noqa: E402

OWN = (b"From: Pat Prospect <pat@prospect.example>\r\nTo: Me <me@sender.example>\r\n"
       b"Subject: Re: Quick question\r\nDate: Mon, 3 Nov 2025 11:15:10 -0500\r\n"
       b"Message-ID: <CAF1x2y3z4=abc@mail.prospect.example>\r\nIn-Reply-To: <out-1@sender.example>\r\n"
       b"References: <out-1@sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n")
BODY = (b"\r\nThanks, sounds interesting. Could you send pricing for a team of 12?\r\n\r\n"
        b"On Mon, Nov 3, 2025 at 9:02 AM Me <me@sender.example> wrote:\r\n> Hi Pat, quick question about your outbound.\r\n")
LMTP = (b"Return-Path: <pat@prospect.example>\r\nDelivered-To: me@sender.example\r\n"
        b"Received: from [127.0.0.1] ([127.0.0.1])\r\n\tby mx with LMTP\r\n\tid SG45AYIMFWtWFgAAg+zDdQ\r\n"
        b"\t(envelope-from <pat@prospect.example>)\r\n\tfor <me@sender.example>; Mon, 03 Nov 2025 16:15:22 +0000\r\n")


def _signature(seed: str, lines: int) -> bytes:
    """Base64-looking text folded as signing headers fold it."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    text = "".join(alphabet[(i * 7 + ord(seed[i % len(seed)])) % 64] for i in range(76 * lines))
    return "\r\n         ".join(text[i:i + 76] for i in range(0, len(text), 76)).encode()


def _signed(name: str, domain: str, seed: str) -> bytes:
    return (f"{name}: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n        d={domain}; s=s2024; t=1730650521;\r\n"
            "        h=to:subject:message-id:date:from:in-reply-to:references:mime-version\r\n"
            "         :from:to:cc:subject:date:message-id:reply-to;\r\n"
            "        bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n        b=").encode() + _signature(seed, 2) + b"\r\n"


def _results(name: str) -> bytes:
    return (f"{name}: mx.provider.example;\r\n       dkim=pass header.i=@prospect.example header.s=s2024;\r\n"
            "       spf=pass (provider.example: domain of pat@prospect.example designates 192.0.2.41 as "
            "permitted sender) smtp.mailfrom=pat@prospect.example;\r\n"
            "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=prospect.example\r\n").encode()


WEBMAIL = b"".join([
    b"Delivered-To: me@sender.example\r\n",
    b"Received: by 2001:db8:5b8f::1 with SMTP id d15csp1234567;\r\n        Mon, 3 Nov 2025 08:15:22 -0800 (PST)\r\n",
    b"X-Provider-Smtp-Source: " + _signature("source", 1) + b"\r\n",
    b"X-Received: by 2001:db8:1c0a::2 with SMTP id nc10mr1234567.12.1730650522123;\r\n"
    b"        Mon, 03 Nov 2025 08:15:22 -0800 (PST)\r\n",
    b"ARC-Seal: i=1; a=rsa-sha256; t=1730650522; cv=none;\r\n        d=provider.example; s=arc-2024;\r\n        b="
    + _signature("seal", 2) + b"\r\n",
    _signed("ARC-Message-Signature", "provider.example", "arcms"),
    _results("ARC-Authentication-Results"),
    b"Return-Path: <pat@prospect.example>\r\n",
    b"Received: from mail-out.prospect.example (mail-out.prospect.example. [192.0.2.41])\r\n"
    b"        by mx.provider.example with SMTPS id a640c23a62f3a12.2025.11.03.08.15.22\r\n"
    b"        for <me@sender.example>\r\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n"
    b"        Mon, 03 Nov 2025 08:15:22 -0800 (PST)\r\n",
    b"Received-SPF: pass (provider.example: domain of pat@prospect.example designates 192.0.2.41 as "
    b"permitted sender) client-ip=192.0.2.41;\r\n",
    _results("Authentication-Results"),
    _signed("DKIM-Signature", "prospect.example", "dkim"),
    _signed("X-Provider-DKIM-Signature", "provider.example", "xdkim"),
    b"X-Provider-Message-State: " + _signature("state", 1) + b"\r\n\t" + _signature("tail", 1)[:30] + b"\r\n",
])

SETS = {"its sender's headers": OWN + BODY, "an LMTP delivery's too": LMTP + OWN + BODY,
        "a webmail's on the way too": WEBMAIL + OWN + BODY}


def per_message(fn, raw: bytes, rounds: int, n: int = 2000) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(n):
            fn(raw)
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="best of (default 5)")
    ap.add_argument("--compiled", action="store_true",
                    help="build the wheel and run with its message reader compiled by mypyc (setup.py)")
    args = ap.parse_args()
    if args.compiled:
        sys.exit(rerun_compiled(sys.argv))
    print(f"the message reader: {READER}")
    for name, raw in SETS.items():
        headers = sum(1 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if line[:1] not in (b" ", b"\t"))
        ours, theirs = per_message(parse, raw, args.rounds), per_message(stdlib_baseline, raw, args.rounds)
        print(f"a reply, {name:26s} ({headers:2d} headers, {len(raw):5,} bytes): parse {ours:5.1f} µs, "
              f"the stdlib {theirs:6.1f} µs ({theirs / ours:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
