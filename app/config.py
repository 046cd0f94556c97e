"""Typed, validated configuration (TOML).

Every key is documented in ``config.example.toml``. A wrong config is reported as one
line naming the file, the key and what was expected (``ConfigError``).
Secrets never live here: only the *way* to get them (keyring, ``password_command``,
``password_env``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from app import config_cache, paths
from app.errors import ConfigError
from app.placeholders import template_problems

Provider = Literal["google", "microsoft", "yahoo", "icloud", "zoho", "fastmail", "generic"]
Security = Literal["tls", "starttls"]


if TYPE_CHECKING:
    from annotated_types import Ge, Gt, Le, Lt
    from pydantic import TypeAdapter

# The sections are plain frozen dataclasses, validated by pydantic (lax: "993" is 993; unknown keys
# refused) only when a config file is read for the first time: a command that starts with a config
# read before (app.config_cache) loads neither pydantic nor its schemas (~0.25 s). The constraint
# names in the annotations (Ge, Gt, Le, Lt) are resolved when the schema is built (_adapter).

_M = TypeVar("_M")


def check(method: _M) -> _M:
    """A section's check, run after its fields are validated, in definition order; a ValueError's
    message is 'key: problem' where it names a key."""
    method._config_check = True  # type: ignore[attr-defined]
    return method


class _Strict:
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    def __post_init__(self) -> None:
        for klass in reversed(type(self).__mro__):
            for value in vars(klass).values():
                if getattr(value, "_config_check", False):
                    value(self)


@dataclass(frozen=True, kw_only=True)
class ServerConfig(_Strict):
    """One IMAP or SMTP endpoint. A provider preset fills in what is left out."""

    host: str | None = None
    port: Annotated[int | None, Ge(1), Le(65535)] = None
    security: Security | None = None
    """``tls`` = implicit TLS (993/465), ``starttls`` = upgrade a plain connection (143/587)."""
    username: str | None = None
    """Login name; default: the account's email."""
    ca_file: Path | None = None
    """An extra CA certificate (PEM) to trust, for self-signed servers."""


@dataclass(frozen=True, kw_only=True)
class FoldersConfig(_Strict):
    """Special folder names, where the server's SPECIAL-USE flags are missing."""

    inbox: str = "INBOX"
    sent: str | None = None
    junk: str | None = None
    archive: str | None = None
    trash: str | None = None


@dataclass(frozen=True, kw_only=True)
class OAuthConfig(_Strict):
    """OAuth2 application settings (``auth = "oauth2"``)."""

    client_id: str | None = None
    tenant: str = "organizations"
    """Microsoft: the authority tenant."""
    redirect_port: Annotated[int, Ge(1), Le(65535)] = 8765
    """Google: the fixed loopback port of the installed-app flow (forward it over SSH)."""
    token_uri: str | None = None
    """Override of the token endpoint (tests, sovereign clouds)."""
    authority: str | None = None
    """Override of the Microsoft authority URL (trusted as given: no instance discovery)."""
    client_secret: str | None = None
    """Google: the Desktop-app client's secret (Google does not treat it as confidential)."""
    auth_uri: str | None = None
    """Override of Google's authorization endpoint."""


@dataclass(frozen=True, kw_only=True)
class AccountConfig(_Strict):
    id: str | None = None
    """Short name used in the UI and on the command line; default: the email address."""
    email: str
    name: str = ""
    """Display name used in From: of replies."""
    provider: Provider = "generic"
    auth: Literal["password", "oauth2"] = "password"
    password_command: str | None = None
    """A shell command that prints the password (or token) on stdout; otherwise the keyring."""
    password_env: str | None = None
    """Name of an environment variable holding the password; otherwise the keyring."""
    signature: str = ""
    enabled: bool = True
    smtp_saves_sent: bool | None = None
    """Whether the provider files SMTP submissions in Sent by itself; default from the preset."""
    max_connections: Annotated[int | None, Ge(1), Le(100)] = None
    """IMAP connections to this mailbox at most; default from the preset (Gmail 15, Microsoft 365 20)."""
    imap: ServerConfig = ServerConfig()
    smtp: ServerConfig = ServerConfig()
    folders: FoldersConfig = FoldersConfig()
    oauth: OAuthConfig = OAuthConfig()
    warmup_tag: str | list[str] | None = None
    """This mailbox's warmup tag(s), as the sequencer shows it (Smartlead's ``warmup_key_id``,
    Instantly's custom tag): mail received here that carries one is warmup."""

    @check
    def _check(self) -> AccountConfig:
        if "@" not in self.email:
            raise ValueError(f"email: expected an email address, got {self.email!r}")
        for tag in self.warmup_tags:
            if problem := tag_problem(tag):
                raise ValueError(f"warmup_tag: {problem}")
        if self.provider == "generic":
            for side in ("imap", "smtp"):
                if not getattr(self, side).host:
                    raise ValueError(f"{side}.host: required for provider 'generic'")
        return self

    @property
    def key(self) -> str:
        return self.id or self.email

    @property
    def warmup_tags(self) -> tuple[str, ...]:
        tags = [self.warmup_tag] if isinstance(self.warmup_tag, str) else (self.warmup_tag or [])
        return tuple(t.strip() for t in tags if t.strip())


_TAG_WORD = re.compile(r"[^\W_]")


def tag_problem(tag: str) -> str | None:
    """Why a warmup tag cannot be matched as whole words, or None."""
    if not _TAG_WORD.search(tag):
        return f"expected a tag with letters or digits, got {tag!r}"
    if len(tag) > 100:
        return f"expected a tag of at most 100 characters, got {len(tag)}"
    return None


@dataclass(frozen=True, kw_only=True)
class GeneralConfig(_Strict):
    database: str | None = None
    """The store: a SQLite file (default: in the platform data dir), or a ``postgresql://`` URL of
    a team's PostgreSQL database (the password never in it: PGPASSWORD, ~/.pgpass, the keyring
    or ``database_password_command``)."""
    database_password_command: str | None = None
    """A command printing the PostgreSQL store's password (e.g. ``pass show db/replydesk``)."""
    theme: str = "replydesk-dark"
    idle_refresh_minutes: Annotated[float, Gt(0), Lt(29)] = 10
    """Gmail (and RFC 2177) end an IDLE after 29 minutes: it is renewed before that."""
    poll_interval_seconds: Annotated[float, Gt(0)] = 60
    initial_sync_days: Annotated[int, Ge(1)] = 30
    log_file: Path | None = None
    """Engine log; default: beside the database."""
    bell: bool = True
    """Ring the terminal bell when an interested or meeting reply arrives."""
    download_folder: str | None = None
    """Where ``v`` in a thread offers to save an attachment ("~/Downloads" when not set)."""
    advance_after_label: bool = True
    """After a one-key label in the inbox the cursor moves on to the next conversation, and a
    label given in an open thread opens the next conversation of the view; false keeps both on
    the labelled one."""
    notice_seconds: Annotated[float, Gt(0), Le(3600)] = 8
    """How long the status bar's line about new replies stays after the last one arrived."""
    timezone: str | None = None
    """IANA zone for snoozes and follow-ups ("Europe/Berlin"); default: the system's."""
    follow_up_days: Annotated[int, Ge(0), Le(60)] = 3
    """Business days after your reply before a conversation with no answer comes back; 0: never."""
    follow_up_template: str | None = None
    """A [templates] name ready in the reply to a conversation that got no answer."""
    ooo_follow_up_days: int | Literal["off"] = 1
    """An out-of-office reply with a return date snoozes its conversation until the morning this
    many days after that date; "off" leaves it where it is."""
    ooo_template: str | None = None
    """A [templates] name ready in the reply to someone back from out of office."""
    connect_concurrency: Annotated[int, Ge(1), Le(500)] = 20
    """TLS handshakes and logins the engine runs at once when mailboxes (re)connect."""
    connects_per_second: Annotated[float, Gt(0), Le(1000)] = 100
    """How fast the engine starts new connections to each IMAP host (each provider its own
    budget): a cold start of 5,000 mailboxes at one provider is a steady stream (50 s at 100 a
    second), never a burst it would rate-limit; mailboxes at other providers do not wait for it."""
    max_accounts_per_engine: Annotated[int, Ge(1)] = 1000
    """On a PostgreSQL store, the most mailboxes one engine holds; engines share the mailboxes
    evenly under this cap (app/store/leases.py)."""
    lease_seconds: Annotated[float, Ge(2), Le(300)] = 30
    """On a PostgreSQL store, how long an engine's hold on a mailbox lasts without renewal (renewed
    every third of it): a dead engine's mailboxes are taken over by the others within it and a
    renewal (about 40 s at the default)."""
    parse_workers: Annotated[int, Ge(1), Le(32)] = 2
    """Worker processes that read (parse and classify) incoming mail: a message that is slow to
    read occupies one while the others go on."""
    fetch_ahead_batches: Annotated[int, Ge(1)] | None = None
    """Batches of mail (about 1 MB each, 100 to 400 messages) fetched and not yet stored that the
    engine holds at once, across all mailboxes (default: 4 for each parse worker): a cold start of
    thousands of mailboxes with weeks of mail fetches as fast as it can read and store, not as
    fast as the servers send (memory). New mail in a mailbox already synced goes ahead of history."""
    read_timeout_seconds: Annotated[float, Gt(0), Le(600)] = 10
    """A message that takes longer to read is stored with its headers, marked not classified."""
    rules_file: Path | None = None
    """Your own classification rules, added to the shipped ones (the format of rules.toml;
    ``replydesk classify --rules`` tries them on files)."""
    followup_check_seconds: Annotated[float, Gt(0), Le(3600)] = 30
    """How often the engine looks for snoozes and follow-ups that are due."""
    soft_bounce_limit: Annotated[int, Ge(1), Le(100)] = 3
    """Soft bounces of one address within ``soft_bounce_days`` that suppress it as if hard."""
    soft_bounce_days: Annotated[float, Gt(0), Le(365)] = 14
    bounce_rate_warning: Annotated[float, Ge(0), Le(100)] = 3.0
    """Percent of last week's sends that bounced above which a mailbox is flagged (health, accounts list)."""
    user: str | None = None
    """Who you are on a shared replydesk: recorded with every label, assignment, snooze, note,
    suppression and reply, and shown in the status bar; default: your login name."""
    team: list[str] = field(default_factory=list)
    """Teammates offered when assigning conversations, beside everyone already seen in the history."""

    def who(self) -> str:
        """``user``, else the login name."""
        if self.user:
            return self.user
        import getpass
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no passwd entry and no LOGNAME (a bare container)
            return "unknown"

    @check
    def _check_database(self) -> GeneralConfig:
        if self.database is None or not self.database.lower().startswith(("postgresql:", "postgres:")):
            return self
        if not paths.is_postgres_url(self.database):
            raise ValueError(f"database: {self.database!r} is neither a file nor a postgresql://USER@HOST/DB URL")
        creds = self.database.partition("://")[2].rpartition("@")[0]
        if ":" in creds or "password=" in self.database.lower():
            raise ValueError("database: the URL holds a password; leave it out (PGPASSWORD, ~/.pgpass, the keyring: "
                             "replydesk db password URL, or database_password_command)")
        return self

    @check
    def _check_user(self) -> GeneralConfig:
        for key, name in [("user", self.user), *((f"team[{i}]", n) for i, n in enumerate(self.team))]:
            if name is not None and not (0 < len(name.strip()) <= 64 and name.isprintable()):
                raise ValueError(f"{key}: expected a name of 1 to 64 printable characters, got {name!r}")
        return self

    @check
    def _zone(self) -> GeneralConfig:
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone: unknown time zone {self.timezone!r} "
                                 f"(an IANA name such as 'Europe/Berlin')") from None
        if isinstance(self.ooo_follow_up_days, int) and not 0 <= self.ooo_follow_up_days <= 30:
            raise ValueError("ooo_follow_up_days: expected 0 to 30 or \"off\"")
        return self

    def tz(self) -> tzinfo | None:
        """The user's time zone (None: the system's)."""
        if self.timezone is None:
            return None
        from zoneinfo import ZoneInfo
        return ZoneInfo(self.timezone)
    warmup_tags: list[str] = field(default_factory=list)
    """Warmup tags of every mailbox: mail carrying one as a whole word is warmup (Noise view),
    and replydesk never touches it on the server."""
    own_domains: list[str] = field(default_factory=list)
    """Domains that are yours: mail from them is internal, not a prospect's reply."""

    @check
    def _check_noise(self) -> GeneralConfig:
        for i, tag in enumerate(self.warmup_tags):
            if problem := tag_problem(tag):
                raise ValueError(f"warmup_tags[{i}]: {problem}")
        for i, domain in enumerate(self.own_domains):
            if "." not in domain.strip(".@ ") or " " in domain.strip():
                raise ValueError(f"own_domains[{i}]: expected a domain such as acme.io, got {domain!r}")
        return self


EventName = Literal["reply.received", "reply.categorized", "reply.sent", "suppression.added"]


@dataclass(frozen=True, kw_only=True)
class SequencerConfig(_Strict):
    """A sending platform that learns the decisions made here (app/sequencers). Its API key comes
    from ``key_env``, ``key_command`` or the keyring (``sequencer:<name>``), never from here."""

    type: Literal["instantly", "smartlead"]
    name: str | None = None
    """Short name (default: the type); the keyring entry is ``sequencer:<name>``."""
    key_env: str | None = None
    key_command: str | None = None
    base_url: str | None = None
    """The API's address; default: the platform's own."""
    ca_file: Path | None = None
    statuses: dict[str, int | None] = field(default_factory=dict)
    """Category -> the platform's status (Instantly interest_value) or category id (Smartlead);
    overrides the defaults, None to send nothing for a category."""
    campaign_id: str | None = None
    """Instantly: only this campaign's lead (default: the lead in every campaign)."""

    @property
    def key(self) -> str:
        return self.name or self.type


@dataclass(frozen=True, kw_only=True)
class AssignConfig(_Strict):
    """``[[assign]]``: a reply that matches every key given is assigned to ``user`` when the engine
    stores it; the first matching rule wins, and a conversation someone has keeps its owner."""

    user: str
    mailbox: str | None = None
    """The id or address of the mailbox the reply reached."""
    mailbox_domain: str | None = None
    """The domain of that mailbox (a client's sending domain, e.g. "clientx.com")."""
    category: str | None = None
    """The reply's category (interested, meeting, not_interested, … or its name)."""

    @check
    def _check(self) -> AssignConfig:
        if not (0 < len(self.user.strip()) <= 64 and self.user.isprintable()):
            raise ValueError(f"user: expected a name of 1 to 64 printable characters, got {self.user!r}")
        if self.mailbox is None and self.mailbox_domain is None and self.category is None:
            raise ValueError("user: a rule needs mailbox, mailbox_domain or category (else it takes every reply)")
        # the category's name is checked by the engine (app.engine.assign_rules): app.config
        # stays free of app.mail (app.auth builds on it alone)
        return self


@dataclass(frozen=True, kw_only=True)
class WebhookConfig(_Strict):
    """An HTTPS endpoint told of replies and decisions, signed with HMAC-SHA256 of its secret."""

    url: str
    name: str | None = None
    events: list[EventName] = field(default_factory=lambda: ["reply.received", "reply.categorized", "reply.sent",
                                                             "suppression.added"])
    secret_env: str | None = None
    secret_command: str | None = None
    format: Literal["json", "slack"] = "json"
    """``slack``: a Slack incoming-webhook message, for hot leads (interested, meeting) only."""
    ca_file: Path | None = None

    @check
    def _check(self) -> WebhookConfig:
        if not self.url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"url: expected an https:// address, got {self.url!r}")
        return self

    @property
    def key(self) -> str:
        return self.name or self.url


@dataclass(frozen=True, kw_only=True)
class ConfigModel(_Strict):
    general: GeneralConfig = GeneralConfig()
    sequencers: list[SequencerConfig] = field(default_factory=list)
    webhooks: list[WebhookConfig] = field(default_factory=list)
    accounts: list[AccountConfig] = field(default_factory=list)
    assign: list[AssignConfig] = field(default_factory=list)
    """Auto-assignment rules, in order."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id = keys, e.g. ``interested = "I"``."""
    templates: dict[str, str] = field(default_factory=dict)
    """Saved replies: name = text with placeholders (``app.placeholders``)."""

    @check
    def _templates(self) -> ConfigModel:
        for name, text in self.templates.items():
            if not name.strip() or not text.strip():
                raise ValueError(f"templates.{name}: a template needs a name and some text")
            problems = template_problems(text)
            if problems:
                raise ValueError(f"templates.{name}: {problems[0]}")
        return self

    @check
    def _followup_templates(self) -> ConfigModel:
        for key in ("follow_up_template", "ooo_template"):
            name = getattr(self.general, key)
            if name is not None and name not in self.templates:
                raise ValueError(f"general.{key}: no template {name!r} in [templates]")
        return self

    @check
    def _unique_targets(self) -> ConfigModel:
        for what, items in (("sequencers", self.sequencers), ("webhooks", self.webhooks)):
            keys = [item.key for item in items]
            for i, key in enumerate(keys):
                if key in keys[:i]:
                    raise ValueError(f"{what}[{i}].name: duplicate name {key!r}")
        return self

    @check
    def _unique(self) -> ConfigModel:
        seen: set[str] = set()
        for i, acc in enumerate(self.accounts):
            if acc.key in seen:
                raise ValueError(f"accounts[{i}].id: duplicate account id {acc.key!r}")
            seen.add(acc.key)
        return self


# --- provider presets ------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    imap: tuple[str | None, int, Security]
    smtp: tuple[str | None, int, Security]
    sent: str
    junk: str
    archive: str | None
    trash: str
    smtp_saves_sent: bool
    max_connections: int = 10
    """Simultaneous IMAP connections the provider allows one mailbox (ours and the user's apps)."""
    password_imap: bool = True
    """Whether IMAP still takes a password (an app password) rather than OAuth only."""


PRESETS: dict[str, Preset] = {
    # Gmail: 15 IMAP connections per account; OAuth or an app password only (since autumn 2024);
    # [Gmail]/All Mail holds every message again (it is the archive, never synced as a folder);
    # its SMTP files what it sends in Sent itself
    "google": Preset(("imap.gmail.com", 993, "tls"), ("smtp.gmail.com", 465, "tls"),
                     "[Gmail]/Sent Mail", "[Gmail]/Spam", "[Gmail]/All Mail", "[Gmail]/Trash", True,
                     max_connections=15),
    # Microsoft 365: no basic auth for IMAP; SMTP AUTH basic off by default for existing tenants from
    # the end of December 2026; about 20 IMAP connections per mailbox; Exchange files SMTP
    # submissions in Sent Items
    "microsoft": Preset(("outlook.office365.com", 993, "tls"), ("smtp.office365.com", 587, "starttls"),
                        "Sent Items", "Junk Email", "Archive", "Deleted Items", True,
                        max_connections=20, password_imap=False),
    "yahoo": Preset(("imap.mail.yahoo.com", 993, "tls"), ("smtp.mail.yahoo.com", 465, "tls"),
                    "Sent", "Bulk", "Archive", "Trash", True),
    "icloud": Preset(("imap.mail.me.com", 993, "tls"), ("smtp.mail.me.com", 587, "starttls"),
                     "Sent Messages", "Junk", "Archive", "Deleted Messages", False),
    "zoho": Preset(("imap.zoho.com", 993, "tls"), ("smtp.zoho.com", 465, "tls"),
                   "Sent", "Spam", "Archive", "Trash", True),
    "fastmail": Preset(("imap.fastmail.com", 993, "tls"), ("smtp.fastmail.com", 465, "tls"),
                       "Sent", "Spam", "Archive", "Trash", False),
    "generic": Preset((None, 993, "tls"), (None, 587, "starttls"),
                      "Sent", "Junk", "Archive", "Trash", False),
}

DEFAULT_PORTS = {("imap", "tls"): 993, ("imap", "starttls"): 143,
                 ("smtp", "tls"): 465, ("smtp", "starttls"): 587}


@dataclass(frozen=True)
class Endpoint:
    """A fully resolved IMAP or SMTP endpoint."""

    host: str
    port: int
    security: Security
    username: str
    ca_file: Path | None


@dataclass(frozen=True)
class Account:
    """An account with its preset applied: what the engine works with."""

    id: str
    email: str
    name: str
    provider: str
    auth: str
    password_command: str | None
    password_env: str | None
    signature: str
    enabled: bool
    imap: Endpoint
    smtp: Endpoint
    folders: dict[str, str]
    """role -> preset name, used where LIST has no special-use flags."""
    smtp_saves_sent: bool
    oauth: OAuthConfig
    max_connections: int = 10
    # not compared: a new tag is taken without reconnecting the mailbox (Engine.reload)
    warmup_tags: tuple[str, ...] = field(default=(), compare=False)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]


def _endpoint(side: str, cfg: ServerConfig, preset: tuple[str | None, int, Security],
              email: str) -> Endpoint:
    host = cfg.host or preset[0]
    assert host, "validated: generic accounts name their hosts"
    security = cfg.security or preset[2]
    if cfg.port is not None:
        port = cfg.port
    elif cfg.security is not None:
        port = DEFAULT_PORTS[(side, security)]
    else:
        port = preset[1]
    return Endpoint(host=host, port=port, security=security, username=cfg.username or email,
                    ca_file=cfg.ca_file.expanduser() if cfg.ca_file else None)


def resolve_account(acc: AccountConfig) -> Account:
    preset = PRESETS[acc.provider]
    f = acc.folders
    folders = {"inbox": f.inbox, "sent": f.sent or preset.sent, "junk": f.junk or preset.junk,
               "trash": f.trash or preset.trash}
    if archive := f.archive or preset.archive:
        folders["archive"] = archive
    return Account(
        id=acc.key, email=acc.email, name=acc.name, provider=acc.provider, auth=acc.auth,
        password_command=acc.password_command, password_env=acc.password_env,
        signature=acc.signature, enabled=acc.enabled,
        imap=_endpoint("imap", acc.imap, preset.imap, acc.email),
        smtp=_endpoint("smtp", acc.smtp, preset.smtp, acc.email),
        folders=folders,
        smtp_saves_sent=preset.smtp_saves_sent if acc.smtp_saves_sent is None else acc.smtp_saves_sent,
        oauth=acc.oauth,
        max_connections=acc.max_connections or preset.max_connections,
        warmup_tags=acc.warmup_tags,
    )


SECRET_ENV_NAMES: set[str] = set()
"""Every environment variable a loaded config names as holding a secret (``password_env``,
``key_env``, ``secret_env``): kept out of the environment of every command replydesk runs, so
one mailbox's ``password_command`` never sees another's password."""


@dataclass(frozen=True)
class Config:
    path: Path | None
    general: GeneralConfig
    accounts: tuple[Account, ...]
    keymap: dict[str, str]
    templates: dict[str, str] = field(default_factory=dict)
    sequencers: tuple[SequencerConfig, ...] = ()
    webhooks: tuple[WebhookConfig, ...] = ()
    assign: tuple[AssignConfig, ...] = ()

    def __post_init__(self) -> None:
        names = [a.password_env for a in self.accounts] + [s.key_env for s in self.sequencers]
        names += [w.secret_env for w in self.webhooks]
        SECRET_ENV_NAMES.update(n for n in names if n)

    @property
    def reads_keyring(self) -> bool:
        """Whether a secret this config names can come from the OS keyring: a mailbox's password
        or OAuth tokens, a sequencer's key or a webhook's secret with neither an environment
        variable nor a command of its own, or a PostgreSQL store's password without
        ``database_password_command``. Finding the keyring in use costs a tenth of a second or more
        (its backends are looked up and imported), so only these configs ask which it is."""
        if isinstance(self.database, str) and not self.general.database_password_command:
            return True
        own = [(a.password_env, a.password_command) for a in self.accounts]
        own += [(s.key_env, s.key_command) for s in self.sequencers]
        own += [(w.secret_env, w.secret_command) for w in self.webhooks]
        return any(not env and not command for env, command in own)

    @property
    def database(self) -> Path | str:
        """The store: a SQLite file's path, or a PostgreSQL store's URL (a str)."""
        if paths.is_postgres_url(self.general.database):
            return str(self.general.database)
        if self.general.database is not None:
            db = Path(self.general.database).expanduser()
            if not db.is_absolute() and self.path is not None:
                db = self.path.parent / db
            return db
        return paths.default_database_path()

    @property
    def log_file(self) -> Path:
        if self.general.log_file is not None:
            return self.general.log_file.expanduser()
        database = self.database
        return paths.log_path_for(database if isinstance(database, Path) else paths.default_database_path())

    def account(self, key: str) -> Account:
        for acc in self.accounts:
            if key in (acc.id, acc.email):
                return acc
        raise ConfigError(f"no account {key!r} in {self.path or 'the config'}")


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith(("function-", "literal[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(err: Any) -> str:
    kind = err["type"]
    got = err.get("input")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "unknown key"
    if kind in ("missing", "missing_keyword_only_argument"):
        return "required key is missing"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    if kind not in ("value_error",) and not isinstance(got, (dict, list)):
        return f"expected {msg[0].lower() + msg[1:]}, got {got!r}".replace("expected input should be", "expected")
    return msg


_ADAPTER: list[TypeAdapter[ConfigModel]] = []


def _adapter() -> TypeAdapter[ConfigModel]:
    if not _ADAPTER:
        from annotated_types import Ge, Gt, Le, Lt
        from pydantic import TypeAdapter
        globals().update(Ge=Ge, Gt=Gt, Le=Le, Lt=Lt)
        _ADAPTER.append(TypeAdapter(ConfigModel))
    return _ADAPTER[0]


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    from pydantic import ValidationError
    try:
        model = _adapter().validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _loc(err["loc"])
        desc = _describe(err)
        # model validators report "key: problem" themselves
        if err["type"] == "value_error" and ": " in desc:
            sub, desc = desc.split(": ", 1)
            key = f"{key}.{sub}" if key else sub
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{where}: {key or '(top level)'}: {desc}{more}") from None
    return Config(path=path, general=model.general,
                  accounts=tuple(resolve_account(a) for a in model.accounts),
                  keymap=dict(model.keymap), templates=dict(model.templates),
                  sequencers=tuple(model.sequencers), webhooks=tuple(model.webhooks),
                  assign=tuple(model.assign))


def load_config(path: Path | str | None = None) -> Config:
    """Load the config from ``path``, ``$REPLYDESK_CONFIG`` or the platform config dir.

    A missing file at the default location is an empty config (no accounts yet); a
    missing file that was named explicitly is an error.
    """
    explicit = path is not None or "REPLYDESK_CONFIG" in os.environ
    cfg_path = Path(path).expanduser() if path is not None else paths.default_config_path()
    try:
        raw = cfg_path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{cfg_path}: config file not found") from None
        return Config(path=None, general=GeneralConfig(), accounts=(), keymap={})
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read config: {exc.strerror}") from None
    cached = config_cache.read(cfg_path, raw)
    if cached is not None:
        return cached
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{cfg_path}: config is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: invalid TOML: {exc}") from None
    config = parse_config(data, cfg_path)
    config_cache.write(cfg_path, raw, config)
    return config
