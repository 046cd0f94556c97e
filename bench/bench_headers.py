"""What a message's delivery headers cost the reader: one short reply parsed with only the headers
its sender wrote, with the three an LMTP delivery adds (Dovecot's, as the other benches' mail has
them), and with those a webmail provider adds on the way (Received hops, ARC, DKIM, SPF results,
its own X- headers: 23 headers, 4 KB), or those a hosted Exchange adds (its hops, its spam
verdicts, its tenant stamps: 45 headers, 6 KB), folded as such mail folds them. The baseline is
the standard library's parser (``policy.default``, ``get_body``, ``get_content``) on the same
bytes, in the same run.

    python bench/bench_headers.py [--rounds 5] [--compiled]

Prints, for each header set, the reader's parse and the standard library's in µs of CPU a message
(best of ``--rounds``) and their ratio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from tests.compiled import compiled_first, parse_args_compiled  # noqa: E402

READER = compiled_first()

from bench_mail import rate, stdlib_baseline  # noqa: E402

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


def _exchange_hop(host: str, to: str, at: str) -> bytes:
    return (f"Received: from {host}.prod.example (2603:10b6:{host[-3:]}::1) by\r\n {to}.prod.example "
            f"(2603:10b6:{to[-3:]}::2) with Microsoft SMTP Server (version=TLS1_2,\r\n "
            f"cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8093.27; {at}\r\n").encode()


_AT = "Mon, 3 Nov 2025 16:15:22 +0000"
EXCHANGE = b"".join([
    _exchange_hop("mw4pr03ca0101", "sa1pr01mb8123", _AT),
    _exchange_hop("co1pepf00001a61", "mw4pr03ca0101", _AT),
    _exchange_hop("mail-out.prospect.example", "co1pepf00001a61", _AT),
    _results("Authentication-Results"),
    b"Received-SPF: Pass (protection.provider.example: domain of prospect.example designates 192.0.2.41 as\r\n"
    b" permitted sender) receiver=protection.provider.example; client-ip=192.0.2.41;\r\n",
    b"ARC-Seal: i=1; a=rsa-sha256; s=arcselector10001; d=provider.example; cv=none;\r\n b="
    + _signature("xseal", 3).replace(b"\r\n         ", b"\r\n ") + b"\r\n",
    _signed("ARC-Message-Signature", "provider.example", "xarcms"),
    _results("ARC-Authentication-Results"),
    _signed("DKIM-Signature", "prospect.example", "xdkim"),
    b"Thread-Topic: Quick question\r\n",
    b"Thread-Index: AQHbLsX0abcdEFGHijklMNOPqrstUVWXyz0123==\r\n",
    b"Accept-Language: en-US\r\nContent-Language: en-US\r\nX-MS-Has-Attach:\r\nX-MS-TNEF-Correlator:\r\n",
    b"x-ms-publictraffictype: Email\r\n",
    b"x-ms-traffictypediagnostic: SA1PR01MB8123:EE_|MW4PR03MB6500:EE_\r\n",
    b"x-ms-office365-filtering-correlation-id: 3f2a9c1e-7b4d-4e0a-9c8b-2d1f0e3a4b5c\r\n",
    b"x-microsoft-antispam: BCL:0;ARA:13230040|1800799024|376014|366016|38070700018;\r\n",
    b"x-microsoft-antispam-message-info:\r\n " + _signature("info", 8).replace(b"\r\n         ", b"\r\n ") + b"\r\n",
    b"x-forefront-antispam-report:\r\n CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:SA1PR01MB8123.prod.example;\r\n"
    b" PTR:;CAT:NONE;SFS:(13230040)(1800799024)(376014)(366016)(38070700018);DIR:OUT;SFP:1101;\r\n",
    b"x-ms-exchange-antispam-messagedata-chunkcount: 1\r\n",
    b"x-ms-exchange-antispam-messagedata-0:\r\n " + _signature("data", 6).replace(b"\r\n         ", b"\r\n ") + b"\r\n",
    b"X-MS-Exchange-CrossTenant-AuthAs: Internal\r\nX-MS-Exchange-CrossTenant-AuthSource: SA1PR01MB8123.prod.example\r\n",
    b"X-MS-Exchange-CrossTenant-Network-Message-Id: 3f2a9c1e-7b4d-4e0a-9c8b-2d1f0e3a4b5c\r\n",
    b"X-MS-Exchange-CrossTenant-originalarrivaltime: 03 Nov 2025 16:15:20.1234 (UTC)\r\n",
    b"X-MS-Exchange-CrossTenant-fromentityheader: Hosted\r\n",
    b"X-MS-Exchange-CrossTenant-id: 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d\r\n",
    b"X-MS-Exchange-CrossTenant-mailboxtype: HOSTED\r\nX-MS-Exchange-CrossTenant-userprincipalname: "
    b"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEf==\r\n",
    b"X-MS-Exchange-Transport-CrossTenantHeadersStamped: MW4PR03MB6500\r\n",
    b"X-MS-Exchange-Organization-AuthAs: Anonymous\r\nX-MS-Exchange-Organization-AuthSource: "
    b"CO1PEPF00001A61.prod.example\r\nX-MS-Exchange-Organization-SCL: 1\r\n",
    b"Return-Path: pat@prospect.example\r\n",
])

SETS = {"its sender's headers": OWN + BODY, "an LMTP delivery's too": LMTP + OWN + BODY,
        "a webmail's on the way too": WEBMAIL + OWN + BODY, "an Exchange Online's too": EXCHANGE + OWN + BODY}


def per_message(fn, raw: bytes, rounds: int, n: int = 2000) -> float:
    """µs of CPU a message, the best of ``rounds`` passes over ``n`` copies (bench_mail's ``rate``)."""
    return 1e6 / rate(fn, [raw] * n, rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="best of (default 5)")
    args = parse_args_compiled(ap)
    print(f"the message reader: {READER}")
    for name, raw in SETS.items():
        headers = sum(1 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if line[:1] not in (b" ", b"\t"))
        ours, theirs = per_message(parse, raw, args.rounds), per_message(stdlib_baseline, raw, args.rounds)
        print(f"a reply, {name:26s} ({headers:2d} headers, {len(raw):5,} bytes): parse {ours:5.1f} µs, "
              f"the stdlib {theirs:6.1f} µs ({theirs / ours:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
