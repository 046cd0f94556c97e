"""``replydesk doctor``: check each account's IMAP and SMTP setup step by step and explain failures.

For each side: DNS, TCP connect, the TLS mode against the port (implicit TLS on a STARTTLS port and
the reverse), TLS version and certificate, capabilities, login, and (IMAP) the special folders.
The protocols are spoken over raw asyncio streams so every step is seen on its own. Each failure
carries the hint for its usual cause. Accounts run in parallel with bounded concurrency; a step
that fails ends that side's checks.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

from app.auth.secrets import Kind
from app.config import Account
from app.doctor.protocols import ImapChecks, SmtpChecks
from app.doctor.push import PUSH_WAIT
from app.doctor.steps import TIMEOUT, Failed, Result, Side, close, open_secure, resolve

__all__ = ["Result", "diagnose", "TIMEOUT"]


async def check_side(account: Account, name: Kind, timeout: float) -> list[Result]:
    side = Side(account, name, timeout)
    speak = ImapChecks(side) if name == "imap" else SmtpChecks(side)
    writer = None
    try:
        await resolve(side)
        reader, writer = await open_secure(side, speak)
        # the IMAP side also waits for a pushed test message (app/doctor/push.py)
        await asyncio.wait_for(speak.run(reader, writer, side.endpoint.security == "tls"),
                               timeout * 3 + (min(PUSH_WAIT, timeout) + timeout if name == "imap" else 0))
    except Failed as failure:
        side.ok(failure.check, failure.detail, "FAIL", failure.hint)
    except TimeoutError:
        side.ok("protocol", f"the server stopped answering (no reply in {timeout:.0f} s)", "FAIL",
                "a proxy or firewall may be cutting the connection")
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
        side.ok("protocol", f"the server closed the connection: {type(exc).__name__}", "FAIL")
    finally:
        if writer is not None:
            await close(writer)
    return side.results


async def diagnose(accounts: list[Account], *, concurrency: int = 16, timeout: float = TIMEOUT,
                   on_account: Callable[[list[Result]], None] | None = None) -> list[Result]:
    """Check every account (IMAP and SMTP at once); ``on_account`` gets each account's lines as it ends."""
    limit = asyncio.Semaphore(concurrency)

    async def one(account: Account) -> list[Result]:
        async with limit:
            imap, smtp = await asyncio.gather(check_side(account, "imap", timeout),
                                              check_side(account, "smtp", timeout))
        if on_account is not None:
            on_account(imap + smtp)
        return imap + smtp

    done = await asyncio.gather(*(one(a) for a in accounts))
    return [r for results in done for r in results]
