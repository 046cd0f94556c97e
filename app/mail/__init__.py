"""Understanding mail, purely: bytes and text in, plain data out. No IO (beyond reading the
rules file shipped inside the package).

``parse`` turns raw bytes into a ParsedMessage, ``sanitize`` makes text safe for a terminal,
``classify`` says whether a message is a reply (and which intent), a bounce, an auto-reply or
noise (warmup, your own mailboxes' mail, bulk: ``NoiseContext`` says what is yours),
``thread_key``/``normalize_subject`` group conversations and ``build_reply`` writes the answer.
"""

from app.mail.classify import classify
from app.mail.compose import build_reply, reply_recipients, reply_text, stored_original
from app.mail.noise import KINDS, NoiseContext
from app.mail.parse import parse
from app.mail.rules import Rules, load_rules
from app.mail.sanitize import sanitize
from app.mail.thread import normalize_subject, thread_key
from app.mail.types import CATEGORIES, Address, Attachment, BounceRecipient, Classification, ParsedMessage

__all__ = [
    "CATEGORIES", "KINDS", "Address", "Attachment", "BounceRecipient", "Classification", "NoiseContext",
    "ParsedMessage", "Rules", "build_reply", "classify", "load_rules", "normalize_subject", "parse",
    "reply_recipients", "reply_text", "sanitize", "stored_original", "thread_key",
]
