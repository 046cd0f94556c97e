"""``replydesk accounts``: add, import, list, remove mailboxes; authorize OAuth; store a password.

Passwords and tokens go to the keyring only; the config gets the account's settings, appended as
text so the user's comments stay.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app import config_file
from app.commands.accounts_csv import read_accounts
from app.config import PRESETS, Account, Config
from app.errors import ReplydeskError, SecretError, UsageError
from app.store import Store
from app.store.health import read_store_health
from app.store.lifecycle import ACCOUNT_STOPPED_BY_ERROR, AccountState
from app.store.stats import bounce_warnings

DAY = 86400.0

PROVIDERS = list(PRESETS)


def add_arguments(p: argparse.ArgumentParser) -> None:
    # --config is accepted after the action too, like after every subcommand
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="config file (default: $REPLYDESK_CONFIG or the platform config dir)")
    sub = p.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", parents=[common], help="add one mailbox (asks for what the flags leave out)")
    add.add_argument("--email")
    add.add_argument("--provider", choices=PROVIDERS)
    add.add_argument("--name", help="display name for From:")
    add.add_argument("--id", dest="account_id", help="short name (default: the email)")
    add.add_argument("--auth", choices=["password", "oauth2"])
    for side in ("imap", "smtp"):
        add.add_argument(f"--{side}-host")
        add.add_argument(f"--{side}-port", type=int)
        add.add_argument(f"--{side}-security", choices=["tls", "starttls"])
        add.add_argument(f"--{side}-username")
    add.add_argument("--ca-file", help="extra CA certificate (PEM) for both servers")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--password-command", help="a command printing the password (stored in the config)")
    add.add_argument("--password-env", help="an environment variable holding the password")
    add.add_argument("--client-id", help="OAuth client id")
    add.add_argument("--client-secret", help="Google Desktop-app client secret")
    add.add_argument("--tenant", help="Microsoft tenant (default: organizations)")
    add.add_argument("--authority", help="Microsoft authority URL instead of login.microsoftonline.com/TENANT")
    add.add_argument("--paste", action="store_true", help="Google: paste the redirect URL (SSH sessions)")

    imp = sub.add_parser("import", parents=[common],
                         help="add many mailboxes from a CSV export, or from a sending platform (--from)")
    imp.add_argument("file", metavar="FILE.csv", nargs="?")
    imp.add_argument("--from", dest="platform", choices=("instantly", "smartlead"),
                     help="read the mailboxes from this platform's API (its [[sequencers]] entry)")

    lst = sub.add_parser("list", parents=[common], help="every mailbox with its health")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")

    rm = sub.add_parser("remove", parents=[common], help="remove a mailbox, its secrets and its stored mail")
    rm.add_argument("account", metavar="ID")

    auth = sub.add_parser("auth", parents=[common], help="authorize an OAuth mailbox again")
    auth.add_argument("account", metavar="ID")
    auth.add_argument("--paste", action="store_true", help="Google: paste the redirect URL (SSH sessions)")

    pw = sub.add_parser("password", parents=[common], help="store a mailbox's password in the keyring")
    pw.add_argument("account", metavar="ID")
    pw.add_argument("--smtp", action="store_true", help="a different password for SMTP only")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def run(args: argparse.Namespace) -> int:
    path = config_file.config_path(getattr(args, "config", None))
    action = args.accounts_command
    if action == "add":
        return _add(args, path)
    if action == "import":
        if args.platform:
            if args.file:
                raise UsageError("accounts import: give a CSV file or --from, not both")
            from app.commands.accounts_platform import import_from
            return import_from(args.platform, path)
        if not args.file:
            raise UsageError("accounts import: give a CSV file, or --from instantly|smartlead")
        return _import(Path(args.file), path)
    config = config_file.check(path, config_file.read_text(path))
    if action == "list":
        return _list(config, args.json)
    if action == "remove":
        return _remove(config, path, args.account)
    if action == "auth":
        return _auth(config, args.account, args.paste)
    return _password(config.account(args.account), args)


# --- add -------------------------------------------------------------------------------

def _ask(prompt: str, default: str | None = None, choices: list[str] | None = None) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"missing {prompt.lower()} (pass it as a flag when not on a terminal)")
    suffix = f" [{default}]" if default else ""
    while True:
        answer = input(f"{prompt}{suffix}: ").strip() or (default or "")
        if answer and (choices is None or answer in choices):
            return answer
        if choices:
            print(f"  one of: {', '.join(choices)}")


def _read_password(args: argparse.Namespace, who: str) -> str:
    if args.password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        value = getpass.getpass(f"Password for {who} (an app password for Google/Yahoo/iCloud): ")
    else:
        raise UsageError("no password: pass --password-stdin, --password-command or --password-env")
    if not value:
        raise UsageError("empty password")
    return value


def _table_from_args(args: argparse.Namespace) -> dict[str, Any]:
    tty = sys.stdin.isatty()
    email = args.email or _ask("Email")
    provider = args.provider or _ask("Provider (presets fill in servers and folders)", "generic", PROVIDERS)
    name = args.name if args.name is not None else (_ask("Display name", email.split("@")[0]) if tty else "")
    auth = args.auth
    if auth is None:
        oauth_likely = provider == "microsoft" or bool(args.client_id)
        auth = (_ask("Sign in with", "oauth2" if oauth_likely else "password", ["password", "oauth2"])
                if tty and provider in ("google", "microsoft") else ("oauth2" if args.client_id else "password"))
    table: dict[str, Any] = {"id": args.account_id, "email": email, "name": name or None,
                             "provider": provider, "auth": auth,
                             "password_command": args.password_command, "password_env": args.password_env}
    for side in ("imap", "smtp"):
        host = getattr(args, f"{side}_host")
        if provider == "generic" and not host:
            host = _ask(f"{side.upper()} host")
        table[side] = {"host": host, "port": getattr(args, f"{side}_port"),
                       "security": getattr(args, f"{side}_security"),
                       "username": getattr(args, f"{side}_username"), "ca_file": args.ca_file}
    if auth == "oauth2":
        client_id = args.client_id or _ask("OAuth client id")
        secret = args.client_secret
        if provider == "google" and not secret:
            secret = _ask("OAuth client secret (Google Desktop-app client)")
        table["oauth"] = {"client_id": client_id, "client_secret": secret, "tenant": args.tenant,
                          "authority": args.authority}
    return table


def _add(args: argparse.Namespace, path: Path) -> int:
    # the keyring and the OAuth libraries load only for the actions that use them
    from app.auth import oauth
    from app.auth.keyring_store import keyring_delete, keyring_key, set_secret
    table = _table_from_args(args)
    _, config = config_file.with_accounts(path, [table])  # validates before anything is stored
    account = config.accounts[-1]
    stored: list[str] = []
    if not (account.password_env or account.password_command):
        if account.auth == "oauth2":
            oauth.authorize(account, print, input, paste=args.paste or None)
            stored.append(keyring_key(account.email, f"oauth-{account.provider}"))
        else:
            set_secret(account.email, _read_password(args, account.email))
            stored.append(keyring_key(account.email))
    try:
        config_file.append_accounts(path, [table])
    except ReplydeskError:
        for key in stored:
            keyring_delete(key)
        raise
    where = "the keyring" if stored else "your password_command/env"
    print(f"added {account.id} to {path} (secret in {where}); check it with: replydesk doctor {account.id}")
    return 0


# --- import ----------------------------------------------------------------------------

def _import(csv_path: Path, path: Path) -> int:
    # the keyring and the OAuth libraries load only for the actions that use them
    from app.auth.keyring_store import keyring_delete, keyring_key, set_secret
    config = config_file.check(path, config_file.read_text(path)) if path.exists() else None
    existing = {name for a in (config.accounts if config else ()) for name in (a.id, a.email)}
    result = read_accounts(csv_path, existing)
    if result.ignored_columns:
        print(f"{csv_path}: ignoring columns: {', '.join(result.ignored_columns)}", file=sys.stderr)
    if result.problems:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        print(f"nothing imported: fix the {len(result.problems)} problem(s) above and run it again",
              file=sys.stderr)
        return 1
    tables = [a.table for a in result.accounts]
    config_file.with_accounts(path, tables)  # the merged config must be valid before any secret is stored
    stored: list[str] = []
    try:
        for account in result.accounts:
            for kind, secret in account.secrets.items():
                set_secret(account.email, secret, kind)
                stored.append(keyring_key(account.email, kind))
        config_file.append_accounts(path, tables)
    except ReplydeskError as exc:
        for key in stored:
            keyring_delete(key)
        print(f"replydesk: {exc}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return exc.exit_code
    print(f"imported {len(tables)} accounts into {path}; passwords are in the keyring. "
          "Check them with: replydesk doctor")
    return 0


# --- list, remove, auth, password -------------------------------------------------------

def _list(config: Config, as_json: bool) -> int:
    store = Store(config.database)
    try:
        health = {row["id"]: row for row in store.accounts()}
        not_done = store.op_problems()
        now = time.time()
        stats = store.account_stats(now - DAY, now - 7 * DAY, threads=False)
    finally:
        store.close()
    store_health = read_store_health(config.database)
    store_problem = store_health.problem if store_health is not None else None
    if not as_json and config.reads_keyring:
        from app.auth.keyring_store import KEYRING_WARNING, plaintext_keyring
        if (plain := plaintext_keyring()) is not None:
            print(KEYRING_WARNING.format(name=plain), file=sys.stderr)
    if store_problem and not as_json:
        print(f"database: {store_problem} — {store_health.fix}" if store_health else "", file=sys.stderr)
    for acc in config.accounts:
        row: Mapping[str, Any] = health.get(acc.id) or {}
        state = AccountState.DISABLED if not acc.enabled else row.get("state", "new")
        item = {"id": acc.id, "email": acc.email, "provider": acc.provider, "auth": acc.auth,
                "state": state, "last_error": row.get("last_error"), "hint": row.get("hint"),
                "last_push": row.get("last_push"), "arrival_latency": row.get("arrival_latency"),
                "arrival_via": row.get("arrival_via")}
        if store_problem:
            item["store_problem"] = store_problem
        st = stats.get(acc.id, {})
        sent, bounces = st.get("sent_7d", 0), st.get("bounces_7d", 0)
        warning = "; ".join(bounce_warnings(st, config.general.bounce_rate_warning)) or None
        item.update(sent_7d=sent, bounces_7d=bounces, complaints_7d=st.get("complaints_7d", 0),
                    bounce_rate_7d=round(100 * bounces / sent, 2) if sent else None, bounce_warning=warning)
        ops = not_done.get(acc.id)
        if ops is not None:
            item["server_ops_not_done"] = {"failed": ops.failed, "skipped": ops.skipped, "latest": ops.latest}
        if as_json:
            print(json.dumps(item, ensure_ascii=False))
            continue
        problem = ""
        if item["last_error"]:
            problem = f"  {item['last_error']}" + (f" ({item['hint']})" if item["hint"] else "")
        rate = f"{100 * bounces / sent:.1f}%" if sent else "—"
        figures = f"bounce {rate:>6} of {sent:>5} sent 7d, {item['complaints_7d']} complaint(s)"
        print(f"{acc.id[:32]:<32} {acc.provider:<9} {acc.auth:<8} {state:<13} {figures}{problem}")
        if warning:
            print(f"{'':<32} warning: {warning}")
        if ops is not None:
            print(f"{'':<32} {ops.failed + ops.skipped} server operation(s) not carried out this week "
                  f"({ops.failed} failed, {ops.skipped} skipped); latest: {ops.latest}")
    if not config.accounts and not as_json:
        print("no accounts yet: replydesk accounts add, or replydesk accounts import FILE.csv")
    return 0


def _remove(config: Config, path: Path, key: str) -> int:
    # the keyring and the OAuth libraries load only for the actions that use them
    from app.auth import oauth
    from app.auth.keyring_store import delete_secrets
    account = config.account(key)
    config_file.remove_account(path, account.id)
    removed = delete_secrets(account.email)
    store = Store(config.database)
    try:
        store.remove_account_rows(account.id)
    finally:
        store.close()
    oauth.invalidate(account)
    print(f"removed {account.id} from {path}, {removed} keyring entr{'y' if removed == 1 else 'ies'} "
          "and its stored mail")
    return 0


def _auth(config: Config, key: str, paste: bool) -> int:
    # the keyring and the OAuth libraries load only for the actions that use them
    from app.auth import oauth
    account = config.account(key)
    if account.auth != "oauth2":
        raise UsageError(f"{account.id} uses a password, not OAuth",
                         f"store a new one with: replydesk accounts password {account.id}")
    oauth.authorize(account, print, input, paste=paste or None)
    store = Store(config.database)
    try:
        row = store.account_row(account.id)
        if row is not None and row["state"] in ACCOUNT_STOPPED_BY_ERROR:
            # clears "re-authentication needed" from the account list; a watcher still running
            # keeps the state it writes (the table would refuse its next move from "new")
            store.set_account_state(account.id, AccountState.NEW)
    finally:
        store.close()
    print(f"{account.id} is authorized; tokens are in the keyring")
    return 0


def _password(account: Account, args: argparse.Namespace) -> int:
    # the keyring and the OAuth libraries load only for the actions that use them
    from app.auth.keyring_store import set_secret
    from app.auth.oauth_grant import reauth_command
    if account.auth == "oauth2":
        raise UsageError(f"{account.id} uses OAuth", f"authorize it with: {reauth_command(account)}")
    if account.password_env or account.password_command:
        raise SecretError(f"{account.id} takes its password from "
                          f"{'password_env' if account.password_env else 'password_command'}, not the keyring")
    set_secret(account.email, _read_password(args, account.email), "smtp" if args.smtp else "imap")
    print(f"stored the {'SMTP ' if args.smtp else ''}password for {account.id} in the keyring")
    return 0
