"""Secrets that belong to no mailbox: a sending platform's API key, a webhook's signing secret.

Like a mailbox password they come from an environment variable, a command, or the keyring
(service ``replydesk``, username ``<kind>:<name>``), never from the config. The command runs
with a small environment of its own: no other secret in replydesk's environment reaches it.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from app.auth.keyring_store import keyring_get
from app.errors import SecretError

COMMAND_TIMEOUT = 60.0
# what a password manager's command needs (its store, the agent, the user's locale), and no more
_PASSED_ON = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "SHELL", "TMPDIR",
              "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS",
              "GNUPGHOME", "GPG_AGENT_INFO", "PASSWORD_STORE_DIR", "SSH_AUTH_SOCK")


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ON}
    env["HISTFILE"] = "/dev/null"
    return env


def named_secret(owner: str, *, env: str | None, command: str | None, keyring_name: str) -> str:
    """The secret of ``owner`` (for messages, e.g. "sequencer instantly"). Blocking: call it in a
    thread from async code. Raises SecretError with the fix."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise SecretError(f"{owner}: environment variable {env} is not set or empty",
                              "export it before starting replydesk, or use the keyring")
        return value
    if command:
        name = shlex.split(command)[0] if command.strip() else "command"
        try:
            done = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=COMMAND_TIMEOUT, env=command_env(), check=False)
        except subprocess.TimeoutExpired:
            raise SecretError(f"{owner}: {name} did not finish in {COMMAND_TIMEOUT:.0f} s") from None
        except OSError as exc:
            raise SecretError(f"{owner}: cannot run {name}: {exc.strerror}") from None
        value = done.stdout.decode("utf-8", "replace").strip()
        if done.returncode != 0 or not value:
            raise SecretError(f"{owner}: {name} exited with status {done.returncode}"
                              + ("" if value else " and printed nothing"), "run the command yourself to see why")
        return value.splitlines()[0].strip()
    value = keyring_get(keyring_name)
    if not value:
        raise SecretError(f"{owner}: no secret in the keyring under {keyring_name!r}",
                          f"set key_env or key_command in the config, or store it: "
                          f"keyring set replydesk {keyring_name}")
    return value
