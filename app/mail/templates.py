"""Saved replies: the answers an operator sends twenty times a day ("here is my calendar",
"pricing attached"), with the prospect's name filled in. Pure.

A template is text with placeholders in braces (the syntax: ``app.placeholders``). The values
come from the message being answered and from the mailbox that answers it:

  first_name, name, email, company   the prospect (company from the address's domain, not for
                                     free-mail domains)
  subject                            the subject being answered (no "Re:")
  referral                           the colleague a "wrong person" reply pointed to
  my_name, my_first_name, my_email   the mailbox that sends the reply
"""

from __future__ import annotations

import re

from app.mail.compose import reply_recipients
from app.mail.sanitize import one_line
from app.mail.thread import strip_prefixes
from app.mail.types import Address, ParsedMessage
from app.placeholders import TOKEN

# Mailbox providers whose domain says nothing about the prospect's company.
_FREE_MAIL = frozenset("""
gmail googlemail outlook hotmail live msn yahoo ymail aol icloud me mac gmx web t-online
protonmail proton zoho yandex mail qq 163 126 orange free laposte libero virgilio wp onet
interia o2 seznam btinternet comcast verizon att
""".split())
# Second-level labels under a country code: acme.co.uk is Acme, not Co.
_SECOND_LEVEL = frozenset("co com org net ac gov edu ne or".split())


def template_values(original: ParsedMessage, me: Address, referral: str | None = None) -> dict[str, str]:
    """The placeholder values for a reply to ``original`` sent by ``me``."""
    to = reply_recipients(original)
    them = original.from_ or (to[0] if to else None)
    name = _clean_name(them.name if them else "", them.email if them else "")
    my_name = _clean_name(me.name, me.email)
    return {
        "first_name": _first(name),
        "name": name,
        "email": one_line(to[0].email if to else ""),
        "company": _company(to[0].email if to else ""),
        "subject": one_line(strip_prefixes(original.subject)),
        "referral": one_line(referral or ""),
        "my_name": my_name,
        "my_first_name": _first(my_name),
        "my_email": one_line(me.email),
    }


def fill_template(text: str, values: dict[str, str]) -> str:
    """``text`` with every placeholder replaced (its fallback, or nothing, when the value is empty)."""
    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(m.group(1), "") or (m.group(2) or "").strip()
    return TOKEN.sub(sub, text)


def _clean_name(name: str, email: str) -> str:
    """A display name fit to greet: "Doe, Jane" -> "Jane Doe"; an address as a name -> ""."""
    name = one_line(name).strip(" \"'")
    if not name or "@" in name or name.lower() == email.lower():
        return ""
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last and " " not in last:
            name = f"{first} {last}"
    if name.isupper() or name.islower():
        name = " ".join(w[:1].upper() + w[1:].lower() for w in name.split())
    return name


def _first(name: str) -> str:
    return name.split()[0] if name else ""


def _company(email: str) -> str:
    domain = email.rpartition("@")[2].lower().strip(".")
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return ""
    label = labels[-2]
    if len(labels) >= 3 and label in _SECOND_LEVEL and len(labels[-1]) == 2:
        label = labels[-3]
    if label in _FREE_MAIL:
        return ""
    return one_line(label[:1].upper() + label[1:])
