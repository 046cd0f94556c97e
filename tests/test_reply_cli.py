"""``replydesk reply`` with no engine running: it sends, files the Sent copy, sets \\Answered,
and exits 0 only once the server accepted the reply."""

from __future__ import annotations

import email
from email import policy

from app.cli import main
from tests.reply_support import mailbox_headers, message_flags, receive, received, wait_for  # noqa: F401  (fixture)
from tests.servers.ports import free_port


def reply(r, *args: str) -> int:
    return main(["--config", str(r.config_path), "reply", *args])


def test_reply_sends_files_the_sent_copy_and_answers_the_original(received, dovecot, capsys):
    r = received
    mid = r.row["message_id"].strip("<>")  # angle brackets are optional
    assert reply(r, mid, "--body", "Tuesday works. Talk then!") == 0
    out = capsys.readouterr().out
    assert out.startswith("sent <") and r.prospect.email in out

    [inbox] = wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))
    assert f"In-Reply-To: {r.row['message_id']}" in inbox
    assert "Subject: Re: Quick question" in inbox
    [sent] = mailbox_headers(dovecot, r.account.email, "Sent")
    reply_id = next(line.split(": ", 1)[1] for line in sent.splitlines() if line.startswith("Message-ID:"))
    assert reply_id in inbox
    assert "\\Answered" in message_flags(dovecot, r.account.email, r.row["message_id"])
    assert r.store.pending_ops(r.config.accounts[0].id) == []

    thread = r.store.conversation_messages(r.row["conversation_id"])
    assert thread[-1]["direction"] == "out" and "Tuesday works" in thread[-1]["body_text"]


def test_reply_by_list_id_from_a_body_file(received, dovecot, tmp_path):
    r = received
    text = tmp_path / "reply.txt"
    text.write_text("From a file: Grüße, 你好 — à bientôt.\n", encoding="utf-8")
    assert reply(r, str(r.row["id"]), "--body-file", str(text)) == 0
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1
    raw = email.message_from_string(dovecot.fetch_field(r.prospect.email, "text").split("text:\n", 1)[1],
                                    policy=policy.default)
    assert "Grüße, 你好 — à bientôt." in raw.get_content()
    # our reply is in the thread now; replying to it is refused rather than sent to ourselves
    ours = r.store.conversation_messages(r.row["conversation_id"])[-1]
    assert reply(r, str(ours["id"]), "--body", "to myself?") == 1


def test_a_suppressed_recipient_needs_force(received, dovecot, capsys):
    r = received
    r.store.suppress(r.prospect.email, "unsubscribe")
    assert reply(r, r.row["message_id"], "--body", "Sorry to bother") == 1
    err = capsys.readouterr().err
    assert f"{r.prospect.email} is on the suppression list" in err and "--force" in err
    assert r.store.outbox() == []
    assert reply(r, r.row["message_id"], "--body", "One last note", "--force") == 0
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1


def test_a_refused_reply_exits_1_with_the_server_words_and_can_be_resent(received, dovecot, smtp_server,
                                                                        capsys):
    r = received
    smtp_server.fail_next(550, "5.7.1 Relaying denied by policy")
    assert reply(r, r.row["message_id"], "--body", "Keep this text") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    [item] = r.store.outbox()
    assert "550 5.7.1 Relaying denied by policy" in err and f"--resend {item['id']}" in err
    # the whole text is kept, as the compose screen keeps it, so r reopens it with its quote
    assert item["state"] == "failed" and item["body"].startswith("Keep this text\n")
    assert "> Sounds interesting, tell me more." in item["body"]

    assert reply(r, "--resend", str(item["id"])) == 0
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1
    assert r.store.outbox_item(item["id"])["state"] == "sent"


def test_unknown_message_and_missing_text_are_one_line_errors(received, capsys):
    r = received
    assert reply(r, "<nobody@nowhere>", "--body", "hi") == 1
    assert reply(r, r.row["message_id"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "no message" in err[0] and "--body" in err[1]


def test_sent_while_imap_is_unreachable_leaves_the_sent_copy_to_the_engine(received, dovecot, capsys):
    r = received
    text = r.config_path.read_text()
    r.config_path.write_text(text.replace(f"port = {dovecot.imaps_port}\n", f"port = {free_port()}\n"))
    assert reply(r, r.row["message_id"], "--body", "Out, even without IMAP") == 0
    err = capsys.readouterr().err
    assert "sent, but" in err and "replydesk sync finishes it" in err
    assert len(wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))) == 1
    pending = {op["op"] for op in r.store.pending_ops(r.config.accounts[0].id)}
    assert pending == {"append", "add_flags"}


TEMPLATES = ('\n[templates]\n'
             'calendar = "Hi {first_name|there},\\n\\nGrab any slot here: https://cal.example/{my_email}"\n'
             'pricing = "Pricing for {company|your team} attached."\n')


def test_reply_with_a_saved_reply_fills_in_the_prospect(received, dovecot, capsys):
    r = received
    with open(r.config_path, "a", encoding="utf-8") as f:
        f.write(TEMPLATES)
    assert reply(r, r.row["message_id"], "--template", "nope") == 2
    err = capsys.readouterr().err
    assert "no template 'nope'" in err and "calendar, pricing" in err and err.count("\n") == 1
    assert r.store.outbox() == []

    assert reply(r, r.row["message_id"], "--template", "calendar") == 0
    wait_for(lambda: mailbox_headers(dovecot, r.prospect.email))
    raw = email.message_from_string(dovecot.fetch_field(r.prospect.email, "text").split("text:\n", 1)[1],
                                    policy=policy.default)
    body = raw.get_content()
    assert body.startswith(f"Hi Pat,\n\nGrab any slot here: https://cal.example/{r.account.email}")
    assert "> Sounds interesting" in body
