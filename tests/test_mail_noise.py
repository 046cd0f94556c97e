"""Noise before intent: warmup tags as whole tokens, mail from the user's own mailboxes, bulk mail
(and a prospect's personal answer never taken for it), and learning a tag from marked messages."""

from __future__ import annotations

from app.mail import classify, parse
from app.mail.noise import NoiseContext, propose_tag, tokens

CTX = NoiseContext.of(["group-broth", "A6133FE"], ["ana@acme.io", "ben@acme-mail.com"], ["acme.dev"])


def raw(subject: str = "Re: Quick question", body: str = "Sounds good, call me Friday.",
        sender: str = "Pat <pat@prospect.example>", headers: str = "", reply: bool = True) -> bytes:
    thread = "In-Reply-To: <cold1@acme.io>\nReferences: <cold1@acme.io>\n" if reply else ""
    return (f"From: {sender}\nTo: ana@acme.io\nSubject: {subject}\nMessage-ID: <{abs(hash(body))}@p>\n"
            f"{thread}{headers}Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def kind(data: bytes, ctx: NoiseContext = CTX) -> tuple[str, list[str]]:
    result = classify(parse(data), context=ctx)
    return result.kind, result.reasons


def test_a_warmup_tag_anywhere_in_any_case_makes_warmup_with_where_it_was():
    assert kind(raw(subject="Catching up GROUP-BROTH")) == ("warmup", ["warmup tag 'group-broth' in the subject"])
    assert kind(raw(body="Lovely weather here.\n\nA6133fe"))[1] == ["warmup tag 'A6133FE' in the text"]
    quoted = "Thanks, will do!\n\nOn Mon, 2 Mar 2026 at 10:00, Ana <ana@acme.io> wrote:\n> Hi there\n> (a6133FE)\n"
    assert kind(raw(body=quoted)) == ("warmup", ["warmup tag 'A6133FE' in the quoted text"])


def test_a_tag_inside_a_longer_word_is_no_tag():
    for text in ("see xA6133FE", "A6133FEx today", "the group-brothers met", "re-group-broth", "A6133FE_2"):
        got, reasons = kind(raw(body=f"Happy to talk: {text}. Send times."))
        assert got == "reply", (text, reasons)
    # with no tags configured nothing is warmup
    assert kind(raw(subject="A6133FE"), NoiseContext())[0] == "reply"


def test_a_tag_of_two_words_matches_them_in_a_row():
    ctx = NoiseContext.of(["broth group"])
    assert kind(raw(body="Some broth, group later. Broth  Group!"), ctx)[0] == "warmup"
    assert kind(raw(body="Broth is nice in a group."), ctx)[0] == "reply"


def test_tokens_keep_inner_hyphens_and_drop_edge_ones():
    assert tokens("(Group-Broth), --x-- A_B_") == ["group-broth", "x", "a_b"]


def test_mail_from_your_own_mailboxes_and_domains_is_internal():
    assert kind(raw(sender="Ben <BEN@acme-mail.com>")) == ("internal", ["from your own mailbox ben@acme-mail.com"])
    assert kind(raw(sender="ops@eu.acme.dev"))[1] == ["from your own domain acme.dev"]
    assert kind(raw(sender="pat@notacme.dev"))[0] == "reply"


def test_newsletters_and_notifications_are_bulk():
    newsletter = raw(subject="Weekly digest #42", sender="news@saas.example", reply=False,
                     headers="List-Id: <weekly.saas.example>\nList-Unsubscribe: <https://saas.example/u>\n"
                             "Precedence: bulk\n")
    assert kind(newsletter) == ("bulk", ["List-Id with Precedence: bulk"])
    notification = raw(subject="Your invoice", sender="no-reply@billing.example", reply=False,
                       headers="List-Unsubscribe: <mailto:u@billing.example>\n")
    assert kind(notification)[0] == "bulk"
    threaded = raw(sender="notifications@github.example",
                   headers="List-Id: <repo.github.example>\nList-Unsubscribe: <https://x>\nPrecedence: list\n")
    assert kind(threaded)[0] == "bulk"


def test_a_personal_answer_is_never_bulk():
    # a prospect answering through a group address carries list headers
    group = raw(body="Yes, interested - let's talk.", sender="sales@prospect.example",
                headers="List-Id: <sales.prospect.example>\nList-Unsubscribe: <https://g/u>\nPrecedence: list\n")
    assert kind(group)[0] == "reply"
    # an unsubscribe link alone is no newsletter
    assert kind(raw(reply=False, subject="Question", headers="List-Unsubscribe: <https://x/u>\n"))[0] == "reply"
    # a no-reply address without list or bulk headers is not judged bulk either
    assert kind(raw(reply=False, subject="Hello", sender="noreply@prospect.example"))[0] == "reply"


def test_warmup_wins_over_bounce_auto_reply_and_internal():
    ooo = raw(subject="Out of office group-broth", headers="Auto-Submitted: auto-replied\n")
    assert kind(ooo)[0] == "warmup"
    assert kind(raw(sender="ana@acme.io", subject="hi A6133FE"))[0] == "warmup"


def test_the_tag_every_marked_message_shares_and_the_others_lack_is_proposed():
    marked = [f"Subject {i}\nSome words about topic {i} number {i * 7}.\nfoo-bar-9x\nthanks" for i in range(5)]
    others = ["Re: pricing\nthanks, what does it cost?", "Re: demo\nthanks, Tuesday works",
              "hello foo-bar-9x thanks", "Re: no\nnot now, thanks"]
    proposal = propose_tag(marked, others)
    assert proposal is not None
    assert (proposal.tag, proposal.marked, proposal.others_with, proposal.others) == ("foo-bar-9x", 5, 1, 4)
    # too few marks, a token excluded (rejected before), or nothing shared: no proposal
    assert propose_tag(marked[:2], others) is None
    assert propose_tag(marked, others, exclude={"foo-bar-9x"}).tag != "foo-bar-9x"
    # the partner's address in every quote of a warmup thread, or a shared link, is no tag
    thread = [f"{m}\nOn Mon, Friend <friend@net1-x.example> wrote:\n> see https://t.co/ab12 foo-bar-9x"
              for m in marked]
    assert propose_tag(thread, others).tag == "foo-bar-9x"
    # a word every marked message shares but most others carry too is a common word, not a tag
    assert propose_tag(["thanks a lot", "many thanks", "thanks!"], others) is None
    assert propose_tag(["alpha beta", "gamma delta", "epsilon zeta"], others) is None
