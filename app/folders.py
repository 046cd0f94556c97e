"""Which server folder plays which role, and the names of folders replydesk creates. Pure: the
engine (``app.imap``) and ``replydesk doctor`` both decide with these functions, so they never
disagree about a mailbox's Sent or Junk folder.

Roles come from special-use attributes first (RFC 6154), then the provider preset's names
(``[Gmail]/Sent Mail``, ``Sent Items``, ``Junk Email`` …), then common names, each also under the
personal namespace (``INBOX.Sent`` on servers whose folders all live below INBOX).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("inbox", "sent", "junk", "archive", "trash")
SPECIAL_USE = {"\\sent": "sent", "\\junk": "junk", "\\archive": "archive", "\\trash": "trash",
               "\\all": "all"}
COMMON_NAMES = {
    "sent": ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail"),
    "junk": ("Junk", "Spam", "Junk Email", "Junk E-mail", "Bulk", "[Gmail]/Spam"),
    "archive": ("Archive", "Archives"),
    "trash": ("Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash"),
}


@dataclass(frozen=True)
class ListEntry:
    name: str
    """As the server spells it (modified UTF-7): what commands must send back."""
    attributes: frozenset[str]
    """Lower-cased (``\\sent``, ``\\noselect``)."""
    delimiter: str | None


@dataclass(frozen=True)
class Namespace:
    """The personal namespace: where a client's own folders go (RFC 2342)."""

    prefix: str = ""
    delimiter: str | None = None


def namespace_of(entries: list[ListEntry]) -> Namespace:
    """The personal namespace seen in a LIST alone (for servers without NAMESPACE): folders all
    below ``INBOX<delimiter>`` mean a prefix of ``INBOX<delimiter>``."""
    inbox = next((e for e in entries if e.name.upper() == "INBOX"), None)
    delim = inbox.delimiter if inbox is not None else next((e.delimiter for e in entries if e.delimiter), None)
    others = [e.name for e in entries if e.name.upper() != "INBOX"]
    if delim and others and all(n.upper().startswith("INBOX" + delim) for n in others):
        return Namespace("INBOX" + delim, delim)
    return Namespace("", delim)


def assign_roles(entries: list[ListEntry], preset: dict[str, str],
                 namespace: Namespace | None = None) -> dict[str, str]:
    """role -> folder name, for the roles this mailbox has."""
    selectable = [e for e in entries if "\\noselect" not in e.attributes and "\\nonexistent" not in e.attributes]
    ns = namespace or namespace_of(entries)
    names = {e.name for e in selectable}
    by_lower = {e.name.lower(): e.name for e in selectable}
    roles: dict[str, str] = {"inbox": next((n for n in names if n.upper() == "INBOX"), "INBOX")}
    for entry in selectable:
        for attr in entry.attributes:
            role = SPECIAL_USE.get(attr)
            if role in ROLES and role not in roles:
                roles[role] = entry.name
    for role in ROLES:
        if role in roles:
            continue
        wanted = preset.get(role)
        candidates = [wanted] if wanted else []
        candidates += [c for c in COMMON_NAMES.get(role, ()) if c != wanted]
        found = _first_present(candidates, by_lower, ns)
        if found:
            roles[role] = found
    if "archive" not in roles and preset.get("archive") == "[Gmail]/All Mail":
        # Gmail archives by removing the Inbox label: its All Mail folder is the archive
        for entry in selectable:
            if "\\all" in entry.attributes:
                roles["archive"] = entry.name
    return roles


def _first_present(candidates: list[str], by_lower: dict[str, str], ns: Namespace) -> str | None:
    for name in candidates:
        for full in (name, under_namespace(name, ns)):
            if full.lower() in by_lower:
                return by_lower[full.lower()]
    return None


def under_namespace(name: str, ns: Namespace) -> str:
    """The full name of a folder replydesk creates (``Archive``): below the personal namespace's
    prefix, with its hierarchy separator (``INBOX.Archive`` where the prefix is ``INBOX.``). A
    name already below the prefix is kept."""
    if not ns.prefix or name.upper().startswith(ns.prefix.upper()) or name.upper() == "INBOX":
        return name
    parts = name.split("/") if ns.delimiter and ns.delimiter != "/" else [name]
    return ns.prefix + (ns.delimiter or "").join(parts)
