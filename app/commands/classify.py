"""``replydesk classify FILE...``: what each message file is (reply and its intent, bounce,
auto-reply, or noise: warmup with ``--warmup-tag``, internal with ``--own-domain``, bulk).

Works on files alone (no config, no database), so it doubles as a way to try a rules file on
saved messages. An unreadable file gets its own error line and a non-zero exit; the other files
are still classified.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.errors import UsageError
from app.mail import NoiseContext, classify, load_rules, parse
from app.mail.sanitize import one_line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="message files (.eml, raw RFC 5322)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--rules", metavar="PATH",
                   help="extra classification rules (TOML, format documented in app/mail/rules.toml)")
    p.add_argument("--warmup-tag", action="append", default=[], metavar="TAG",
                   help="a warmup tag (repeat for several): mail carrying it as a whole word is warmup")
    p.add_argument("--own-domain", action="append", default=[], metavar="DOMAIN",
                   help="a domain of yours (repeat for several): mail from it is internal")


def run(args: argparse.Namespace) -> int:
    rules = None
    if args.rules:
        try:
            rules = load_rules(Path(args.rules).read_text("utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read rules file {args.rules}: {exc.strerror or exc}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"rules file {args.rules}: {exc}") from None
    noise = NoiseContext.of(args.warmup_tag, own_domains=args.own_domain)
    failed = 0
    out = sys.stdout
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            failed += 1
            reason = exc.strerror or type(exc).__name__
            if args.json:
                out.write(json.dumps({"file": name, "error": reason}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{one_line(name)}: error: {reason}\n")
            continue
        result = classify(parse(raw), rules, noise)
        item = {
            "file": name, "kind": result.kind, "category": result.category,
            "confidence": result.confidence, "reasons": result.reasons,
            "bounce_recipients": [{"address": r.address, "status": r.status, "hard": r.hard,
                                   "reason": r.reason}
                                  for r in result.bounce_recipients],
            "ooo_until": result.ooo_until.isoformat() if result.ooo_until else None,
            "referral": result.referral,
        }
        if args.json:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        else:
            extra = ""
            if result.bounce_recipients:
                extra = ", ".join(f"{r.address} {r.status or '?'} {r.reason} {'hard' if r.hard else 'soft'}"
                                        for r in result.bounce_recipients)
            if result.ooo_until:
                extra += f" until {result.ooo_until.isoformat()}"
            if result.referral:
                extra += f" referral {result.referral}"
            extra = f" {one_line(extra)}" if extra.strip() else ""
            why = "; ".join(result.reasons[:3])
            out.write(f"{one_line(name)}: {result.kind}/{result.category} {result.confidence:.2f}"
                      f"{extra}  ({one_line(why)})\n")
    return 1 if failed else 0
