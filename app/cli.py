"""The ``replydesk`` command.

Each subcommand lives in ``app/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``. Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence

from app import __version__
from app.errors import ReplydeskError

SUBCOMMANDS: dict[str, str] = {
    "demo": "run the whole product on embedded local servers, no account needed",
    "sync": "run the engine headless (IMAP IDLE on every mailbox, the outbox) until stopped",
    "list": "print the unified inbox",
    "classify": "classify message files (reply and intent, bounce, auto-reply, warmup, internal, bulk)",
    "reply": "reply to a message from the mailbox that received it",
    "doctor": "check every account's IMAP and SMTP setup and explain failures",
    "accounts": "add, import, list and remove mailboxes",
    "export": "export the suppression list, the leads for a CRM, or the messages",
    "due": "list what is snoozed or waits for an answer, and when it comes back",
    "sequencers": "the sending platforms and webhooks decisions flow to: status, test, retry",
    "db": "the store's database as a whole: copy it between SQLite and PostgreSQL",
}


class _Version(argparse.Action):
    """``--version``: the release, and how the message reader was installed (compiled by mypyc in
    a wheel built where a C compiler was at hand, see setup.py; else pure Python). Read only when
    asked: the reader is not imported to build the parser."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.machinery import EXTENSION_SUFFIXES
        reader = importlib.import_module("app.mail.parse").__file__ or ""
        print(f"replydesk {__version__} (message reader: "
              f"{'compiled' if reader.endswith(tuple(EXTENSION_SUFFIXES)) else 'pure Python'})")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (its options), so starting one
    subcommand does not load every other one's libraries (the demo's servers, the TUI)."""
    parser = argparse.ArgumentParser(
        prog="replydesk",
        description="A terminal master inbox for cold-email senders. With no subcommand, opens the inbox.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version, and whether the message reader is compiled, and exit")
    parser.add_argument("--config", metavar="PATH",
                        help="config file (default: $REPLYDESK_CONFIG or the platform config dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # accepted after the subcommand too; SUPPRESS keeps a value given before it
        p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                       help="config file (default: $REPLYDESK_CONFIG or the platform config dir)")
        if name == command:
            importlib.import_module(f"app.commands.{name}").add_arguments(p)
    return parser


def _chosen_command(argv: Sequence[str] | None) -> str | None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("command", nargs="?")
    known, _ = pre.parse_known_args(argv)
    return known.command if known.command in SUBCOMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_chosen_command(argv))
    args = parser.parse_args(argv)
    if args.config is None and os.environ.get("REPLYDESK_CONFIG"):
        args.config = os.environ["REPLYDESK_CONFIG"]
    module = importlib.import_module(f"app.commands.{args.command or 'tui'}")
    try:
        return int(module.run(args) or 0)
    except ReplydeskError as exc:
        print(f"replydesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except sqlite3.Error as exc:
        print(f"replydesk: database error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
