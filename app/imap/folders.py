"""Which server folder plays which role: special-use attributes first (RFC 6154), then the
provider preset's names (``[Gmail]/Sent Mail``, ``Sent Items``, ``Junk Email`` …)."""

from __future__ import annotations

from app.imap.responses import ListEntry

ROLES = ("inbox", "sent", "junk", "archive", "trash")
SPECIAL_USE = {"\\sent": "sent", "\\junk": "junk", "\\archive": "archive", "\\trash": "trash",
               "\\all": "all"}
COMMON_NAMES = {
    "sent": ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "INBOX.Sent", "[Gmail]/Sent Mail"),
    "junk": ("Junk", "Spam", "Junk Email", "Bulk", "INBOX.Junk", "INBOX.Spam", "[Gmail]/Spam"),
    "archive": ("Archive", "Archives", "INBOX.Archive"),
    "trash": ("Trash", "Deleted Items", "Deleted Messages", "INBOX.Trash", "[Gmail]/Trash"),
}


def assign_roles(entries: list[ListEntry], preset: dict[str, str]) -> dict[str, str]:
    """role -> folder name, for the roles this mailbox has."""
    selectable = [e for e in entries if "\\noselect" not in e.attributes and "\\nonexistent" not in e.attributes]
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
        if wanted and wanted in names:
            roles[role] = wanted
            continue
        if wanted and wanted.lower() in by_lower:
            roles[role] = by_lower[wanted.lower()]
            continue
        for candidate in COMMON_NAMES.get(role, ()):
            if candidate.lower() in by_lower:
                roles[role] = by_lower[candidate.lower()]
                break
    if "archive" not in roles and preset.get("archive") == "[Gmail]/All Mail":
        # Gmail archives by removing the Inbox label: its All Mail folder is the archive
        for entry in selectable:
            if "\\all" in entry.attributes:
                roles["archive"] = entry.name
    return roles
