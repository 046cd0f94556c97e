"""Prospects' replies as the benches send them: short answers of each kind, one with a
signature, one quoting a thread (a few hundred bytes to a few KB)."""

BODIES = [
    "Thanks for reaching out. Could you send pricing for a team of 12?",
    "Not interested, please remove me from your list.",
    "I'm out of the office until Monday with limited access to email.",
    "Sounds good, let's talk Thursday at 3pm. Here is my calendar link.\n\n" + "Best,\nSam\n" * 3,
    "Who is the right person? Probably my colleague jane@prospect.example.\n\n> earlier text\n" * 20,
]


def quoting(reply: str, original: str, wrote: str) -> str:
    """``reply`` above ``original``, quoted as mail clients quote it after the line ``wrote``."""
    quoted = "\n".join(f"> {line}" for line in original.splitlines())
    return f"{reply}\n\n{wrote}\n{quoted}\n"
