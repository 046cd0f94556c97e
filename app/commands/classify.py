"""``replydesk classify FILE...``: what each message file is (reply and its intent, bounce,
auto-reply, or noise: warmup with ``--warmup-tag``, internal with ``--own-domain``, bulk).

Works on files alone (no config, no database), so it doubles as a way to try a rules file on
saved messages; ``--learned`` adds the replies you labelled in the inbox (read from the database
the config names, used here and nowhere else), and ``--explain`` prints every cue the reader found,
what became of it, and the decision. An unreadable file gets its own error line and a non-zero exit; the other files
are still classified.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.errors import UsageError
from app.mail import NoiseContext, classify, load_rules, parse
from app.mail.intent import read
from app.mail.learn import Examples, examples_from
from app.mail.rules import Rules, default_rules
from app.mail.sanitize import one_line
from app.mail.types import ParsedMessage


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="message files (.eml, raw RFC 5322)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--rules", metavar="PATH",
                   help="extra classification rules (TOML, format documented in app/mail/rules.toml)")
    p.add_argument("--warmup-tag", action="append", default=[], metavar="TAG",
                   help="a warmup tag (repeat for several): mail carrying it as a whole word is warmup")
    p.add_argument("--own-domain", action="append", default=[], metavar="DOMAIN",
                   help="a domain of yours (repeat for several): mail from it is internal")
    p.add_argument("--explain", action="store_true",
                   help="print every cue found in a reply, what became of it, and the decision")
    p.add_argument("--learned", action="store_true",
                   help="also learn from the replies you labelled in the inbox (reads the database)")


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
    examples = _learned(args) if args.learned else None
    active = default_rules() if rules is None else default_rules().merged(rules)
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
        parsed = parse(raw)
        result = classify(parsed, rules, noise, examples=examples)
        item = {
            "file": name, "kind": result.kind, "category": result.category,
            "confidence": result.confidence, "reasons": result.reasons,
            "bounce_recipients": [{"address": r.address, "status": r.status, "hard": r.hard,
                                   "reason": r.reason}
                                  for r in result.bounce_recipients],
            "ooo_until": result.ooo_until.isoformat() if result.ooo_until else None,
            "referral": result.referral,
        }
        explained = _explain(parsed, result.kind, active, examples) if args.explain else []
        if args.json:
            if args.explain:
                item["explain"] = explained
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
            if args.explain:
                for line in explained:
                    out.write(f"  {one_line(line)}\n")
                out.write(f"  decision: {result.kind}/{result.category}: {one_line('; '.join(result.reasons))}\n")
    return 1 if failed else 0


def _learned(args: argparse.Namespace) -> Examples:
    from app.commands.common import open_config_and_store

    _, store = open_config_and_store(args)
    try:
        return examples_from(store.intent_examples())
    finally:
        store.close()


def _explain(parsed: ParsedMessage, kind: str, rules: Rules, examples: Examples | None) -> list[str]:
    """Every cue the intent reader found and what became of it (replies); the signals (others)."""
    if kind != "reply":
        return [f"not read for intent: the message is {kind}"]
    reading = read(parsed, rules, examples)
    lines = [f"cue {c.status:<10} {c.category.replace('_', ' '):<14} {c.phrase!r}"
             + (f"  ({c.why})" if c.why else "") for c in reading.cues]
    if not reading.cues:
        lines.append("no cue found")
    lines.append(f"rules alone: {reading.rules_category.replace('_', ' ')}")
    if examples is not None:
        if reading.learned is None:
            lines.append(f"learned: no labelled reply alike (of {examples.size})")
        else:
            followed = reading.category == reading.learned.category
            lines.append(f"learned: {reading.learned.reason}" + ("" if followed else " - not followed"))
    return lines
