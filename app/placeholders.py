"""The placeholder syntax of saved replies, shared by the config (which checks a template when
it loads) and ``app.mail.templates`` (which fills one in). Kept apart from both so that the
config does not depend on the mail package.

``{first_name}`` is a placeholder, ``{first_name|there}`` one with a fallback for when the
value is unknown, ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("first_name", "name", "email", "company", "subject", "referral",
                "my_name", "my_first_name", "my_email")

TOKEN = re.compile(r"\{\{|\}\}|\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|([^{}]*))?\}")


def template_problems(text: str) -> list[str]:
    """What is wrong with a template: placeholders that are not known, said once each."""
    unknown: list[str] = []
    for m in TOKEN.finditer(text):
        name = m.group(1)
        if name is not None and name not in PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    return [f"unknown placeholder {{{n}}} (known: {', '.join(PLACEHOLDERS)})" for n in unknown]
