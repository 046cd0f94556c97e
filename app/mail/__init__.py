"""Understanding mail, purely: bytes and text in, plain data out. No IO (beyond reading the
rules file shipped inside the package).

``parse`` turns raw bytes into a ParsedMessage, ``sanitize`` makes text safe for a terminal,
``classify`` says whether a message is a reply (and which intent), a bounce, an auto-reply or
noise (warmup, your own mailboxes' mail, bulk: ``NoiseContext`` says what is yours),
``thread_key``/``normalize_subject`` group conversations and ``build_reply`` writes the answer.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from app.mail.types import CATEGORIES, Address, Attachment, BounceRecipient, Classification, ParsedMessage

if TYPE_CHECKING:
    from app.mail.classify import classify
    from app.mail.compose import build_reply, reply_recipients, reply_text, stored_original
    from app.mail.noise import KINDS, NoiseContext
    from app.mail.parse import parse
    from app.mail.rules import Rules, load_rules
    from app.mail.sanitize import sanitize
    from app.mail.thread import normalize_subject, thread_key

# Loaded on first use: the classifier alone (bounce formats, intent rules, HTML) costs ~90 ms to
# import, which commands such as `replydesk list` that only read the store never pay.
_LAZY = {
    "classify": "classify", "build_reply": "compose", "reply_recipients": "compose", "reply_text": "compose",
    "stored_original": "compose", "KINDS": "noise", "NoiseContext": "noise", "parse": "parse", "Rules": "rules",
    "load_rules": "rules", "sanitize": "sanitize", "normalize_subject": "thread", "thread_key": "thread",
}


class _Package(ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # importing the submodule app.mail.classify binds it on the package; the package's
        # `classify` (likewise `parse`, `sanitize`) stays the function, as `from app.mail import` expects
        if name in _LAZY and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "CATEGORIES", "KINDS", "Address", "Attachment", "BounceRecipient", "Classification", "NoiseContext",
    "ParsedMessage", "Rules", "build_reply", "classify", "load_rules", "normalize_subject", "parse",
    "reply_recipients", "reply_text", "sanitize", "stored_original", "thread_key",
]
