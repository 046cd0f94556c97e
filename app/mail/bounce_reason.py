"""Why a recipient bounced, from one taxonomy, and whether retrying can help.

The enhanced status code (RFC 3463) decides where it says something specific; the server's words
decide where it does not (no code, or a catch-all such as ``5.0.0`` or ``5.7.1``), in the
languages mail systems answer in. Every pattern here is a plain alternation of literals: linear
in the text, which is capped before it is searched.
"""

from __future__ import annotations

import re
from typing import Final

REASONS: Final = ("user_unknown", "host_unknown", "mailbox_full", "message_too_big", "blocked_policy",
                  "spam_detected", "auth_failure", "rate_limited", "expired", "suspended", "system_error",
                  "has_moved", "not_accepted", "syntax_error", "complaint", "other")
"""``complaint`` is the reason of an abuse report (ARF), not of a delivery failure."""

FINAL_REASONS: Final = frozenset({"user_unknown", "host_unknown", "has_moved", "syntax_error", "suspended"})
"""Reasons that are final whatever the code's class says when the code is missing."""

TEXT_CAP: Final = 2000

# Specific subject/detail pairs of RFC 3463 (and the registry's later additions).
_BY_CODE: Final = {
    "1.1": "user_unknown", "1.2": "host_unknown", "1.3": "syntax_error", "1.4": "user_unknown",
    "1.5": "user_unknown", "1.6": "has_moved", "1.7": "blocked_policy", "1.8": "blocked_policy",
    "1.10": "user_unknown",
    "2.1": "suspended", "2.2": "mailbox_full", "2.3": "message_too_big", "2.4": "system_error",
    "3.1": "system_error", "3.2": "not_accepted", "3.3": "not_accepted", "3.4": "message_too_big",
    "3.5": "system_error",
    "4.1": "system_error", "4.2": "system_error", "4.3": "system_error", "4.4": "host_unknown",
    "4.5": "rate_limited", "4.6": "system_error", "4.7": "expired",
    "5.3": "rate_limited", "5.4": "syntax_error", "5.2": "syntax_error", "5.5": "system_error",
    "6.0": "not_accepted", "6.1": "not_accepted", "6.2": "not_accepted", "6.3": "not_accepted",
    "7.7": "spam_detected", "7.13": "suspended", "7.17": "suspended", "7.18": "suspended",
    "7.20": "auth_failure", "7.21": "auth_failure", "7.22": "auth_failure", "7.23": "auth_failure",
    "7.24": "auth_failure", "7.25": "auth_failure", "7.26": "auth_failure", "7.27": "auth_failure",
    "7.28": "rate_limited", "7.29": "auth_failure", "7.30": "auth_failure",
}
# Codes whose class says little: the wording refines them.
# 5.1.10 is a null MX in the registry (RFC 7505) but Microsoft's "recipient not found".
_GENERIC: Final = {"0.0", "1.0", "1.10", "2.0", "3.0", "4.0", "5.0", "5.1", "6.0", "7.0", "7.1", "7.2", "7.3",
                   "7.4", "7.5", "7.6", "7.8", "7.9", "7.10", "7.15"}
_BY_CLASS: Final = {"1": "user_unknown", "2": "other", "3": "system_error", "4": "system_error",
                    "5": "system_error", "6": "not_accepted", "7": "blocked_policy"}


def _each(heads: tuple[str, ...], tail: str) -> str:
    """``head1tail|head2tail|…``: every alternative starts with a literal, which lets the regex
    engine skip ahead to the characters that can start a match (a group in front defeats that)."""
    return "|".join(head + tail for head in heads)


# Wording, most telling first: the first reason whose words occur names it. Written in lower case,
# searched in the lower-cased text.
_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("auth_failure", r"spf(?![a-z])|dkim|dmarc|sender policy framework|not authenticated|"
                     r"authentication (?:failed|failure|required)|unauthenticated (?:email|mail|sender)"),
    ("spam_detected", r"spam|junk mail|unsolicited|content (?:rejected|filter)|"
                      r"virus|malware|phishing|barracuda reputation|uceprotect|"
                      r"message (?:was )?(?:flagged|classified|identified) as|bulk mail|"
                      r"迷惑メール|スパム|спам|pourriel|indésirable"),
    ("rate_limited", r"rate limit|too many (?:messages|connections|emails|recipients)|try again later|"
                     r"temporarily (?:deferred|rate)|throttl|receiving mail at a rate|excessive|"
                     r"sending limit|quota exceeded for sending|too much mail|slow down"),
    ("has_moved", r"has moved|no longer (?:with|at|works|employed)|address (?:has )?changed|"
                  r"forwarding address|new address is"),
    ("suspended", _each(("account", "mailbox", "user"), r" (?:is |has been )?(?:disabled|suspended|"
                                                         r"deactivated|inactive|locked|blocked|expired|closed|frozen)")
                  + "|" + _each(("disabled", "suspended", "deactivated", "inactive", "closed"),
                                " (?:account|mailbox|user)") + "|"
                  r"account.{0,20}not active|konto (?:ist )?(?:gesperrt|deaktiviert)|"
                  r"compte (?:désactivé|suspendu|bloqué)|cuenta (?:desactivada|suspendida|bloqueada)|"
                  r"аккаунт (?:заблокирован|отключ)|ящик (?:заблокирован|отключ)|"
                  r"利用停止|停止中"),
    ("mailbox_full", r"mailbox (?:is )?full|over ?quota|quota (?:exceeded|exhausted|full)|"
                     r"exceeded (?:the |his |her |their )?(?:storage|quota|mailbox)|"
                     r"insufficient (?:storage|disk space)|not enough (?:space|storage)|mailbox size|"
                     r"mail ?box.{0,20}(?:is )?full|their mailbox is full|"
                     r"postfach (?:ist )?voll|speicherplatz|boîte (?:aux lettres |mail )?pleine|"
                     r"boite (?:aux lettres )?pleine|quota dépassé|buzón (?:está )?lleno|"
                     r"casella (?:piena|di posta piena)|caixa (?:postal )?cheia|переполнен|"
                     r"容量|いっぱい|满"),
    ("message_too_big", r"too (?:big|large)|size (?:limit|exceeds)|exceeds (?:the )?(?:maximum|size|"
                        r"message size)|message size|maximum (?:message )?size|zu gro(?:ß|ss)|"
                        r"trop (?:gros|volumineux)|demasiado grande|слишком больш|サイズ"),
    ("host_unknown", r"null mx|host (?:not found|unknown)|unknown host|domain (?:not found|does not exist|"
                     r"name not found|is not valid)|no (?:mx|such domain|route to host)|nxdomain|"
                     r"name or service not known|unrouteable|unroutable|no mail exchanger|"
                     r"name server|dns (?:error|failure|lookup)|hôte inconnu|domaine inconnu|"
                     r"unbekannte(?:r)? (?:host|domain)|dominio (?:inexistente|desconocido)|"
                     r"домен не найден|ドメイン"),
    ("user_unknown", r"user(?:name)? (?:unknown|not found|does not exist|doesn't exist)|unknown "
                     r"(?:user|recipient|address|mailbox|local ?part|alias)|no such (?:user|mailbox|"
                     r"recipient|address|person|account)|"
                     + _each(("recipient", "address", "mailbox", "account"),
                             r" (?:\S{1,60} )?(?:does not exist|doesn't exist|not found|unknown|unavailable|"
                             r"rejected|invalid|not listed)") + r"|invalid (?:recipient|address|mailbox|user)|"
                     r"not (?:a )?(?:valid|known) (?:user|recipient|mailbox)|not listed in|"
                     r"unknown or illegal alias|no mailbox here|no longer (?:valid|exists)|"
                     r"isn't a valid|couldn't be found|doesn't have an? \S{1,40} account|"
                     r"could not be found|nonexistent|bad destination|"
                     r"benutzer unbekannt|unbekannter (?:benutzer|empfänger)|existiert nicht|"
                     r"utilisateur inconnu|destinataire inconnu|adresse (?:inconnue|invalide|"
                     r"introuvable)|n'existe pas|usuario (?:desconocido|no existe)|no existe|"
                     r"utente (?:sconosciuto|inesistente)|non esiste|usuário desconhecido|"
                     r"não existe|onbekende gebruiker|bestaat niet|nieznany użytkownik|nie istnieje|"
                     r"пользователь не найден|нет такого пользователя|не существует|"
                     r"宛先不明|存在しない|存在しません|該当ユーザ|不存在"),
    ("expired", r"delivery time expired|retry (?:time|timeout) (?:exceeded|expired)|"
                r"(?:message|mail) (?:has been |was )?(?:expired|delayed for)|too long in (?:the )?queue|"
                r"could not be delivered (?:for|within|in) \d{1,3} (?:days|hours)|"
                r"giving up|gave up|i'm not going to try again|delivery attempts (?:have )?failed|"
                r"zeitüberschreitung|délai expiré|tiempo de espera agotado"),
    ("blocked_policy", r"blocked|blacklist|blocklist|denylist|denied|refused|policy|prohibited|"
                       r"not (?:permitted|allowed|authorized)|rejected by|reputation|banned|"
                       r"access denied|relay(?:ing)? (?:denied|not permitted)|abgelehnt|"
                       r"refusé|rechazado|rifiutato|отклонен|拒否"),
    ("system_error", r"system error|internal error|server error|temporary (?:failure|error|problem)|"
                     r"timed? ?out|connection (?:refused|reset|lost|timed)|unable to connect|"
                     r"service (?:unavailable|not available)|routing loop|mail loop|"
                     r"local error|resources|try again"),
    ("not_accepted", r"not accept(?:ing)? (?:mail|messages|email)|does not accept|"
                     r"no longer accepts"),
    ("syntax_error", r"syntax error|bad (?:address )?syntax|malformed (?:address|recipient)|"
                     r"invalid (?:address )?syntax"),
)


def _branches(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern`` (a ``|`` outside any group or class)."""
    out: list[str] = []
    current: list[str] = []
    depth, in_class, escaped = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return out


def by_first_letter(pattern: str) -> str:
    """``pattern`` with the alternatives that start with the same literal character written as one
    (``user x|unknown y|no such`` -> ``u(?:ser x|nknown y)|no such``): the same matches, but the
    engine tries at each position only the alternatives of the letter there, where it tried every
    one of some sixty. Used where only whether the pattern matches is asked."""
    grouped: dict[str, list[str]] = {}
    others: list[str] = []
    for branch in _branches(pattern):
        first = branch[:1]
        if first and first not in "\\()[].^$|?*+{" and branch[1:2] not in ("?", "*", "+", "{"):
            grouped.setdefault(first, []).append(branch[1:])
        else:
            others.append(branch)
    return "|".join([first + (tails[0] if len(tails) == 1 else f"(?:{'|'.join(tails)})")
                     for first, tails in grouped.items()] + others)


_WORDING: Final = [(reason, re.compile(by_first_letter(words))) for reason, words in _WORDS]
"""Each reason's pattern, its alternatives grouped by their first letter (tests/test_mail_properties.py
holds each to the pattern as written)."""
_ANY_WORDING: Final = re.compile(by_first_letter("|".join(words for _, words in _WORDS)))
"""Every reason's words in one alternation: it matches where one of the reasons' does."""


_STATUS: Final = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")


def from_code(status: str | None) -> tuple[str | None, bool]:
    """The reason an enhanced status code names, and whether it is specific."""
    m = _STATUS.fullmatch(status or "")
    if m is None:
        return None, False
    key = f"{int(m.group(2))}.{int(m.group(3))}"
    if key in _BY_CODE and key not in _GENERIC:
        return _BY_CODE[key], True
    return _BY_CLASS.get(m.group(2), "other"), False


def from_wording(text: str) -> str | None:
    if not text:
        return None
    text = text[:TEXT_CAP].lower()
    if _ANY_WORDING.search(text) is None:
        return None  # (most texts name no reason: one search instead of one per reason)
    for reason, pattern in _WORDING:
        if pattern.search(text):
            return reason
    return None


def reason_for(status: str | None, text: str) -> str:
    """The taxonomy's name for a failure with ``status`` (may be None) described by ``text``
    (the diagnostic line, or the notice's words around the address)."""
    coded, specific = from_code(status)
    if specific and coded is not None:
        # the words sharpen two codes: "5.7.1 ... SPF" and a policy code that says spam
        if coded == "blocked_policy":
            worded = from_wording(text)
            if worded in ("spam_detected", "auth_failure"):
                return worded
        return coded
    worded = from_wording(text)
    return worded or coded or "other"
