"""Parse and classify give the same answers as recorded in tests/fixtures/classifications.json.

The record was written by the code before the parse and classify speed-ups (issue 18), over the
shared corpus (../shared/corpus), the project's fixtures (bounces, mail) and the held-out replies,
each without and with warmup tags and own addresses. A user would notice any difference: a reply
filed elsewhere, a bounce whose recipient changed, a different snippet in the list.

Write it again only on purpose, for a change meant to alter classifications:

    python tests/test_mail_unchanged.py --record
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
RECORD = FIXTURES / "classifications.json"

for _path in (ROOT, ROOT / "bench"):  # run as a script to record
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from app.mail import NoiseContext, classify, parse  # noqa: E402
from app.mail.types import Classification, ParsedMessage  # noqa: E402

CONTEXT = NoiseContext.of(
    ["group-broth", "A6133FE", "lemon-tiger", "K9X2ZQ", "silver-maple", "quiet-harbor"],
    ["ana@acme.io", "ben@pipeline-labs.com"], ["acme.dev"])
"""Warmup tags and own addresses, so the noise checks are compared too."""


def corpus_messages() -> dict[str, bytes]:
    if not CORPUS.is_dir():
        return {}
    return {f"corpus/{p.relative_to(CORPUS)}": p.read_bytes() for p in sorted(CORPUS.rglob("*"))
            if p.is_file() and p.suffix in (".eml", ".txt") and p.parent.name in ("eml", "samples")}


def fixture_messages() -> dict[str, bytes]:
    from score_intent import load_replies, message_bytes
    out = {f"fixtures/{p.relative_to(FIXTURES)}": p.read_bytes()
           for p in sorted((*FIXTURES.glob("bounces/*.eml"), *FIXTURES.glob("mail/*.eml")))}
    for i, reply in enumerate(load_replies()):
        raw = re.sub(rb"(?m)^Message-ID: .*$", f"Message-ID: <heldout-{i}@prospect.example>".encode(),
                     message_bytes(reply), count=1)
        out[f"heldout/{i:03d}"] = raw
    return out


def describe_classification(c: Classification) -> dict:
    out = dataclasses.asdict(c)
    out["ooo_until"] = c.ooo_until.isoformat() if c.ooo_until else None
    return out


PARSED_FIELDS = ("message_id", "in_reply_to", "references", "subject", "from_", "to", "cc", "reply_to", "date",
                 "text", "new_text", "quoted_text", "snippet", "size", "thread_key", "headers", "defects",
                 "structure")


def describe_parsed(pm: ParsedMessage) -> str:
    """A digest of what the store keeps of a parsed message (the fields a reading of the bytes
    decides; attachments by name, type and size)."""
    fields = {name: getattr(pm, name) for name in PARSED_FIELDS}
    fields["date"] = pm.date.isoformat() if pm.date else None
    fields["attachments"] = [(a.filename, a.content_type, a.size, a.truncated) for a in pm.attachments]
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def describe(raw: bytes) -> dict:
    pm = parse(raw)
    return {"parsed": describe_parsed(pm), "plain": describe_classification(classify(pm)),
            "context": describe_classification(classify(pm, context=CONTEXT))}


def recorded() -> dict[str, dict]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def _compare(messages: dict[str, bytes], part: str) -> list[str]:
    want = recorded()
    differ = []
    for name, raw in messages.items():
        assert name in want, f"{name} is not in {RECORD.name}: record it (see this module's docstring)"
        got = describe(raw)
        if got[part] != want[name][part]:
            differ.append(f"{name}: {want[name][part]} -> {got[part]}")
    return differ


def test_fixture_classifications_unchanged():
    messages = fixture_messages()
    assert len(messages) > 150
    for part in ("plain", "context"):
        assert _compare(messages, part) == []


def test_fixture_parses_unchanged():
    assert _compare(fixture_messages(), "parsed") == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared email corpus not found at {CORPUS}")
def test_corpus_classifications_unchanged():
    messages = corpus_messages()
    assert len(messages) >= 150
    for part in ("plain", "context"):
        assert _compare(messages, part) == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared email corpus not found at {CORPUS}")
def test_corpus_parses_unchanged():
    assert _compare(corpus_messages(), "parsed") == []


def record() -> None:
    messages = {**corpus_messages(), **fixture_messages()}
    if not CORPUS.is_dir():
        raise SystemExit(f"the corpus is needed to record: {CORPUS} not found")
    data = {name: describe(raw) for name, raw in messages.items()}
    RECORD.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {len(data)} messages in {RECORD}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit(__doc__)
    record()
