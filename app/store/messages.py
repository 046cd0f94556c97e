"""Storing messages from the server: deduplicated by (account, folder, UIDVALIDITY, UID),
threaded into conversations, labelled, and kept in step with server flags."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from json.encoder import encode_basestring_ascii
from typing import Any

from app.mail.types import Classification, ParsedMessage
from app.store.activity import ActivityMixin
from app.store.conversations import BLANK_SUMMARY, SUMMARY_COLUMNS, new_summary
from app.store.db import now
from app.store.followups import FollowupMixin
from app.store.triage import KEYWORD_PREFIX, WARMUP, TriageMixin, keyword_label

SEARCH_TEXT_CAP = 1000
_MAX_PARAMETERS = 32766
"""Parameters of one multi-row INSERT: SQLite's limit since 3.32 (the store needs 3.35 for
RETURNING); PostgreSQL's is 65535."""
LOCAL_COPY_FOLDER = "(sent by replydesk)"
"""Where a reply replydesk sent is kept until its Sent folder's copy is synced."""


_PIECE_MOST = 256
"""Rows of one multi-row INSERT at most (``_pieces``): its statement, kept prepared, takes ~0.7 MB
(30 columns; 2.8 MB at 1,024 rows), and runs no faster a row with more (~1 us from 32 rows up)."""


def _pieces(rows: int, width: int) -> list[int]:
    """How many rows each multi-row INSERT of ``rows`` rows of ``width`` values holds: powers of
    two, largest first, none over ``_PIECE_MOST`` or ``_MAX_PARAMETERS``. A statement's text names
    its rows, and the connection keeps the statements it prepared by their text; preparing one
    costs ~4.5 us a row, five times what running it costs. A batch whose size was never met
    before (batches stored together, new mail a few messages at a time) would otherwise pay that
    anew; this way a set of columns has nine texts at most, each prepared once."""
    most = 1 << (min(_PIECE_MOST, max(1, _MAX_PARAMETERS // width)).bit_length() - 1)
    sizes = [most] * (rows // most)
    rest = rows % most
    while rest:
        piece = 1 << (rest.bit_length() - 1)
        sizes.append(piece)
        rest -= piece
    return sizes


@dataclass
class IncomingMessage:
    """One message fetched from a folder, ready to store."""

    folder: str
    uidvalidity: int
    uid: int
    parsed: ParsedMessage
    classification: Classification | None
    flags: frozenset[str] = frozenset()
    received_at: float | None = None
    """INTERNALDATE where the server gave it."""
    modseq: int | None = None
    direction: str = "in"
    """``out`` for mail the account sent (its Sent folder), ``in`` otherwise."""

    @cached_property
    def parents(self) -> list[str]:
        """The messages this one answers, nearest first: In-Reply-To, then References from the end."""
        p = self.parsed
        return [r for r in [p.in_reply_to, *reversed(p.references)] if r]


def flag_columns(flags: Iterable[str]) -> dict[str, object]:
    flags = {f.lower() for f in flags}
    return {
        "seen": int("\\seen" in flags),
        "answered": int("\\answered" in flags),
        "flagged": int("\\flagged" in flags),
        "flags": " ".join(sorted(flags)),
    }


class MessagesMixin(FollowupMixin, TriageMixin, ActivityMixin):
    """Stores what the server has; labels, suppressions, follow-ups and assignments of new mail
    come from the parts it builds on."""

    def add_messages(self, account: str, batch: Iterable[IncomingMessage]) -> list[int]:
        """Store a batch in one transaction. Messages already stored are skipped.

        Returns the row ids of the messages that were new.
        """
        batch = list(batch)
        new_ids: list[int] = []
        touched: set[int] = set()
        conn = self.db.conn
        with self.db.tx():
            stored = self._stored_places(account, batch)
            labels = self._kept_labels(account, batch)
            threads = self._threads(account, batch)
            # rows wait here and go in together (one statement per run of rows with the same
            # columns: the full-text index flushes once per statement, not once per row); they
            # go in first wherever a lookup could find one of them, so each message is threaded
            # as if those before it were stored one by one
            pending = _Pending()

            def write() -> None:
                # the new conversations of the waiting rows first, in their order, in one statement,
                # each made with its summary where its rows give all of it (the rest are refreshed)
                places: dict[str, list[int]] = {}
                for i, key in enumerate(pending.keys):
                    if key is not None:
                        places.setdefault(key, []).append(i)
                summaries = {key: new_summary([pending.rows[i][0] for i in at]) for key, at in places.items()}
                convs, made = self._conversations_of_keys(
                    account, [key for key in pending.keys if key is not None], summaries)
                summed: set[str | None] = set()
                # the place among the rows of each summed-up conversation's latest inbound message
                last_inbound: dict[int, int] = {}
                for key in made:
                    if (summary := summaries[key]) is not None:
                        summed.add(key)
                        if summary[1] is not None:
                            last_inbound[places[key][summary[1]]] = convs[key]
                for (row, _), key in zip(pending.rows, pending.keys, strict=True):
                    if key is not None:
                        row["conversation_id"] = convs[key]
                    if key not in summed:
                        touched.add(int(str(row["conversation_id"])))
                ids = self._insert_rows(pending.rows)
                for mid, (row, msg) in zip(ids, pending.rows, strict=True):
                    threads.add(account, mid, msg)
                    new_ids.append(mid)
                    self._restore_label_keyword(account, mid, row, msg.flags)
                if last_inbound:
                    conn.executemany("UPDATE conversations SET last_inbound_id = ? WHERE id = ?",
                                     [(ids[i], conv) for i, conv in last_inbound.items()])
                pending.clear()

            for msg in batch:
                if msg.direction == "out" and msg.parsed.message_id:
                    # the Sent folder's copy of a reply replaces the local one shown since sending
                    if pending.has_local_copy(msg.parsed.message_id):
                        write()
                    self._keep_refs(threads)
                    gone = conn.execute("DELETE FROM messages WHERE account = ? AND folder = ? AND "
                                        "message_id = ? RETURNING conversation_id",
                                        (account, LOCAL_COPY_FOLDER, msg.parsed.message_id)).fetchall()
                    touched.update(c for (c,) in gone if c is not None)
                place = (msg.folder, msg.uidvalidity, msg.uid)
                if place in stored:
                    continue
                stored.add(place)
                row = self._message_row(account, msg, labels)
                if pending.answers_or_answered(msg):
                    write()
                # the conversation is found before the row goes in (the lookups do not need it), so
                # the row is written once, whole, with its conversation; one found by its thread key
                # is made (or found made) with the waiting rows'
                found = self._conversation_found(account, msg, threads)
                row["conversation_id"] = found
                threads.note(msg)
                pending.add(row, msg, None if found is not None else _thread_key(msg))
            write()
            self._keep_refs(threads)
            self.refresh_conversations(touched)
            self.suppress_from_classification(new_ids)
            self.followups_on_arrival(new_ids)
            self.assign_on_arrival(new_ids)
        return new_ids

    def _insert_rows(self, rows: list[tuple[dict[str, object], IncomingMessage]]) -> list[int]:
        """Insert rows in their order, a run of rows with the same columns in one statement
        (within the database's limit on parameters); their ids in the same order."""
        ids: list[int] = []
        conn = self.db.conn
        start = 0
        while start < len(rows):
            cols = tuple(rows[start][0])
            end = start + 1
            while end < len(rows) and tuple(rows[end][0]) == cols:
                end += 1
            marks = f"({', '.join('?' for _ in cols)})"
            for size in _pieces(end - start, len(cols)):
                run = rows[start:start + size]
                # RETURNING's order is not promised: each id is matched to its row by the row's place
                got = {(folder, uidvalidity, uid): mid for mid, folder, uidvalidity, uid in conn.execute(
                    f"INSERT INTO messages ({', '.join(cols)}) VALUES {', '.join([marks] * size)} "
                    "RETURNING id, folder, uidvalidity, uid",
                    [value for row, _ in run for value in row.values()]).fetchall()}
                ids += [int(got[(msg.folder, msg.uidvalidity, msg.uid)]) for _, msg in run]
                start += size
        return ids

    def _stored_places(self, account: str, batch: list[IncomingMessage]) -> set[tuple[str, int, int]]:
        """The (folder, UIDVALIDITY, UID) of the batch's messages that are stored already: a
        message is skipped before its conversation is made, so a duplicate leaves none behind."""
        uids: dict[tuple[str, int], list[int]] = {}
        for msg in batch:
            uids.setdefault((msg.folder, msg.uidvalidity), []).append(msg.uid)
        return {(folder, uidvalidity, uid) for (folder, uidvalidity), wanted in uids.items()
                for (uid,) in self.db.conn.execute(
                    "SELECT uid FROM messages WHERE account = ? AND folder = ? AND uidvalidity = ? "
                    "AND uid IN (SELECT value FROM json_each(?))",
                    (account, folder, uidvalidity, json.dumps(wanted)))}

    def _restore_label_keyword(self, account: str, mid: int, row: dict[str, object],
                               flags: frozenset[str]) -> None:
        """A label kept here (by Message-ID) for a message the server now has without its
        keyword: a folder recreated under a new UIDVALIDITY, a copy restored from a backup. The
        keyword goes back on the server, so other machines see the label again."""
        category = row.get("category")
        if row.get("category_source") != "user" or row.get("direction") != "in" or category == WARMUP:
            return
        keyword = KEYWORD_PREFIX + str(category)
        if keyword.lower() not in {f.lower() for f in flags}:
            self.queue_op(account, "add_flags", mid, flags=[keyword])

    def _kept_labels(self, account: str, batch: list[IncomingMessage]) -> dict[str, str]:
        """The user's labels kept (by Message-ID) for the batch's inbound messages."""
        wanted = sorted({m.parsed.message_id for m in batch if m.parsed.message_id and m.direction == "in"})
        if not wanted:
            return {}
        return {str(message_id): str(category) for message_id, category in self.db.conn.execute(
            "SELECT message_id, category FROM labels WHERE account = ? "
            "AND message_id IN (SELECT value FROM json_each(?))", (account, json.dumps(wanted)))}

    def _message_row(self, account: str, msg: IncomingMessage, labels: Mapping[str, str]) -> dict[str, object]:
        p, c = msg.parsed, msg.classification
        sender = p.from_.email if p.from_ else ""
        sender_name = p.from_.name if p.from_ else ""
        sent_at = p.date.timestamp() if p.date else None
        received = msg.received_at or (sent_at if sent_at is not None else now())
        row: dict[str, object] = {
            "account": account, "folder": msg.folder, "uidvalidity": msg.uidvalidity, "uid": msg.uid,
            "message_id": p.message_id, "in_reply_to": p.in_reply_to, "refs": _json_list(p.references),
            "thread_key": p.thread_key, "direction": msg.direction,
            "from_addr": sender.lower(), "from_name": sender_name,
            "sender": f"{sender_name} {sender}".strip(),
            "to_addrs": _json_list([a.email for a in p.to]), "cc_addrs": _json_list([a.email for a in p.cc]),
            "reply_to": _json_list([a.email for a in p.reply_to]),
            "subject": p.subject, "sent_at": sent_at,
            "received_at": received, "modseq": msg.modseq,
            "body_text": p.text, "new_text": p.new_text,
            "search_text": (p.new_text or p.text)[:SEARCH_TEXT_CAP], "snippet": p.snippet,
            "attachments": _json_list([asdict(a) for a in p.attachments]),
            "defects": _json_list(p.defects), "size": p.size,
            **flag_columns(msg.flags),
        }
        if msg.direction == "out":
            row.update(kind="outbound", category="sent", category_source="outbound")
        elif c is None or msg.direction != "in":
            row.update(kind="reply", auto_kind="reply")
        else:
            row.update(
                kind=c.kind, auto_kind=c.kind, category=c.category, category_source="classifier",
                auto_category=c.category,
                confidence=c.confidence, reasons=_json_list(c.reasons),
                bounce_recipients=_json_list([r.__dict__ for r in c.bounce_recipients]),
                ooo_until=c.ooo_until.isoformat() if c.ooo_until else None, referral=c.referral)
        label = labels.get(p.message_id) if p.message_id and msg.direction == "in" else None
        if label == WARMUP:
            # marked as warmup by the user: kept from the server's hands like any warmup mail
            row.update(kind=WARMUP, category=WARMUP, category_source="user")
        elif label:
            row.update(category=label, category_source="user")
        return row

    def _threads(self, account: str, batch: list[IncomingMessage]) -> _Threads:
        """What the batch's thread lookups can find, read for the whole batch at once."""
        parents = sorted({ref for msg in batch for ref in msg.parents})
        own = sorted({msg.parsed.message_id for msg in batch if msg.parsed.message_id})
        conn = self.db.conn
        return _Threads(
            stored={str(r[0]) for r in conn.execute(
                "SELECT DISTINCT message_id FROM messages WHERE account = ? "
                "AND message_id IN (SELECT value FROM json_each(?))", (account, json.dumps(parents)))} if parents else set(),
            named={str(r[0]) for r in conn.execute(
                "SELECT DISTINCT ref FROM message_refs WHERE account = ? "
                "AND ref IN (SELECT value FROM json_each(?))", (account, json.dumps(own)))} if own else set())

    def _conversations_of_keys(self, account: str, keys: list[str],
                               summaries: Mapping[str, tuple[tuple[object, ...], int | None] | None],
                               ) -> tuple[dict[str, int], set[str]]:
        """The conversations of thread keys, those new made in the keys' order (a key given
        twice is made once, as when each is made on its own) with their summaries (``summaries``,
        blank where None), and the keys of those made."""
        conn = self.db.conn
        made: dict[str, int] = {}
        width = 2 + len(SUMMARY_COLUMNS)
        marks = f"({', '.join('?' for _ in range(width))})"
        i = 0
        for size in _pieces(len(keys), width):
            part = keys[i:i + size]
            i += size
            values: list[object] = []
            for key in part:
                summary = summaries.get(key)
                values += (account, key, *(summary[0] if summary is not None else BLANK_SUMMARY))
            made.update((str(key), int(cid)) for cid, key in conn.execute(
                f"INSERT OR IGNORE INTO conversations (account, thread_key, {', '.join(SUMMARY_COLUMNS)}) VALUES "
                f"{', '.join([marks] * size)} RETURNING id, thread_key", values).fetchall())
        convs = dict(made)
        there = sorted(set(keys) - set(made))
        if there:
            convs.update((str(key), int(cid)) for cid, key in conn.execute(
                "SELECT id, thread_key FROM conversations WHERE account = ? "
                "AND thread_key IN (SELECT value FROM json_each(?))", (account, json.dumps(there))))
        return convs, set(made)

    def _conversation_found(self, account: str, msg: IncomingMessage, threads: _Threads) -> int | None:
        """The conversation a message joins, before it is stored: that of a message it answers,
        else of a stored message that answers it; None where it is that of its thread key
        (``_thread_key``). A lookup ``threads`` says can find nothing is not made."""
        conn = self.db.conn
        p = msg.parsed
        parents = msg.parents
        if any(ref in threads.stored for ref in parents):
            marks = ",".join("?" for _ in parents)
            hit = conn.execute(
                f"SELECT conversation_id FROM messages WHERE account = ? AND message_id IN ({marks}) "
                "AND conversation_id IS NOT NULL LIMIT 1", [account, *parents]).fetchone()
            if hit:
                return int(hit[0])
        if p.message_id and p.message_id in threads.named:
            # a reply stored before the message it answers (Sent synced after INBOX)
            self._keep_refs(threads)
            hit = conn.execute(
                "SELECT m.conversation_id FROM message_refs r JOIN messages m ON m.id = r.message "
                "WHERE r.account = ? AND r.ref = ? AND m.conversation_id IS NOT NULL LIMIT 1",
                (account, p.message_id)).fetchone()
            if hit:
                return int(hit[0])
        return None

    def _keep_refs(self, threads: _Threads) -> None:
        """Write the parents the messages stored so far name, for a parent stored after them to
        find them: before a lookup reads them, and before rows are deleted."""
        if threads.refs:
            self.db.conn.executemany("INSERT INTO message_refs (account, ref, message) VALUES (?, ?, ?)",
                                     threads.refs)
            threads.refs = []

    def forget_folder(self, account: str, folder: str, keep_uidvalidity: int) -> int:
        """Drop the rows of a folder whose UIDVALIDITY changed. Labels live on in ``labels``."""
        conn = self.db.conn
        with self.db.tx():
            convs = [r[0] for r in conn.execute(
                "SELECT DISTINCT conversation_id FROM messages WHERE account = ? AND folder = ? "
                "AND uidvalidity != ?", (account, folder, keep_uidvalidity))]
            conn.execute("UPDATE outbox SET reply_to_message = NULL WHERE reply_to_message IN "
                         "(SELECT id FROM messages WHERE account = ? AND folder = ? AND uidvalidity != ?)",
                         (account, folder, keep_uidvalidity))
            conn.execute("DELETE FROM pending_ops WHERE message IN "
                         "(SELECT id FROM messages WHERE account = ? AND folder = ? AND uidvalidity != ?)",
                         (account, folder, keep_uidvalidity))
            n = conn.execute("DELETE FROM messages WHERE account = ? AND folder = ? AND uidvalidity != ?",
                             (account, folder, keep_uidvalidity)).rowcount
            self.refresh_conversations(convs)
        return n

    def apply_server_flags(self, account: str, folder: str, uidvalidity: int,
                           flags_by_uid: Mapping[int, Iterable[str]],
                           modseq_by_uid: Mapping[int, int] | None = None) -> int:
        """Take flags changed on the server (another client). Returns rows changed."""
        conn = self.db.conn
        changed = 0
        touched: set[int] = set()
        labelled: list[tuple[int, str]] = []
        cleared: list[int] = []
        with self.db.tx():
            # user labels the reported messages carry as keywords: one missing from the new flags
            # was cleared on another machine (a server that refuses keywords never had one); read
            # for these UIDs only, so a pushed change to one message does not scan its folder
            keyworded = {uid: keyword_label(old.split()) for uid, old in conn.execute(
                "SELECT uid, flags FROM messages WHERE account = ? AND folder = ? AND uidvalidity = ? "
                "AND uid IN (SELECT value FROM json_each(?)) "
                "AND direction = 'in' AND category_source = 'user' AND flags LIKE '%replydesk-%'",
                (account, folder, uidvalidity, json.dumps(list(flags_by_uid))))}
            for uid, flags in flags_by_uid.items():
                cols = flag_columns(flags)
                cur = conn.execute(
                    "UPDATE messages SET seen = ?, answered = ?, flagged = ?, flags = ?, "
                    "modseq = coalesce(?, modseq) WHERE account = ? AND folder = ? AND uidvalidity = ? "
                    "AND uid = ? AND (seen, answered, flagged, flags) IS NOT (?, ?, ?, ?) "
                    "RETURNING id, conversation_id",
                    (cols["seen"], cols["answered"], cols["flagged"], cols["flags"],
                     (modseq_by_uid or {}).get(uid), account, folder, uidvalidity, uid,
                     cols["seen"], cols["answered"], cols["flagged"], cols["flags"]))
                for mid, conv in cur.fetchall():
                    changed += 1
                    touched.add(conv)
                    if label := keyword_label(flags):
                        labelled.append((mid, label))
                    elif keyworded.get(uid):
                        cleared.append(mid)
            touched |= self.follow_server_labels(labelled, cleared)
            self.refresh_conversations(touched)
        return changed

    def remove_uids(self, account: str, folder: str, uidvalidity: int, uids: Iterable[int]) -> int:
        """Messages expunged or moved away on the server."""
        conn = self.db.conn
        n = 0
        touched: set[int] = set()
        with self.db.tx():
            for uid in uids:
                row = conn.execute(
                    "SELECT id, conversation_id FROM messages WHERE account = ? AND folder = ? "
                    "AND uidvalidity = ? AND uid = ?", (account, folder, uidvalidity, uid)).fetchone()
                if not row:
                    continue
                conn.execute("UPDATE outbox SET reply_to_message = NULL WHERE reply_to_message = ?", (row[0],))
                conn.execute("DELETE FROM pending_ops WHERE message = ?", (row[0],))
                conn.execute("DELETE FROM messages WHERE id = ?", (row[0],))
                touched.add(row[1])
                n += 1
            self.refresh_conversations(touched)
        return n

    def stored_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        return {r[0] for r in self.db.conn.execute(
            "SELECT uid FROM messages WHERE account = ? AND folder = ? AND uidvalidity = ?",
            (account, folder, uidvalidity))}

    def oldest_in_folder(self, account: str, folder: str) -> float | None:
        """When the oldest stored message of a folder arrived (a UIDVALIDITY rescan reaches back to it)."""
        oldest: float | None = self.db.conn.execute(
            "SELECT min(received_at) FROM messages WHERE account = ? AND folder = ?", (account, folder)).fetchone()[0]
        return oldest

    def relocate_message(self, message: int, folder: str, uidvalidity: int, uid: int) -> None:
        """The server moved a message (our MOVE): follow it, so the destination's next sync sees
        it as already stored. A row already there for the new place wins; this one goes."""
        conn = self.db.conn
        with self.db.tx():
            row = conn.execute("SELECT account, conversation_id FROM messages WHERE id = ?", (message,)).fetchone()
            if row is None:
                return
            taken = conn.execute("SELECT id FROM messages WHERE account = ? AND folder = ? AND uidvalidity = ? "
                                 "AND uid = ?", (row[0], folder, uidvalidity, uid)).fetchone()
            if taken is None:
                conn.execute("UPDATE messages SET folder = ?, uidvalidity = ?, uid = ? WHERE id = ?",
                             (folder, uidvalidity, uid, message))
                return
            conn.execute("UPDATE outbox SET reply_to_message = ? WHERE reply_to_message = ?", (taken[0], message))
            conn.execute("DELETE FROM pending_ops WHERE message = ? AND state != 'pending'", (message,))
            conn.execute("UPDATE pending_ops SET message = ? WHERE message = ?", (taken[0], message))
            conn.execute("DELETE FROM messages WHERE id = ?", (message,))
            self.refresh_conversation(row[1])


def _thread_key(msg: IncomingMessage) -> str:
    """The key of the conversation a message joins where no message it answers or that answers
    it is stored."""
    p = msg.parsed
    return p.thread_key or p.message_id or f"uid:{msg.folder}:{msg.uidvalidity}:{msg.uid}"


@dataclass
class _Threads:
    """What a batch's thread lookups can find, read once for the batch and kept up as its
    messages are stored: which of the Message-IDs its messages answer are stored (``stored``),
    which of its own Message-IDs a stored message answers (``named``). A lookup whose
    Message-IDs are in neither finds nothing and is not made; one that may find something is
    made as for a single message. ``refs``: the references of the messages stored since the last
    write of them."""

    stored: set[str]
    named: set[str]
    refs: list[tuple[str, str, int]] = field(default_factory=list)

    def note(self, msg: IncomingMessage) -> None:
        """A message of the batch about to be stored: the lookups of those after it may find it."""
        if msg.parsed.message_id:
            self.stored.add(msg.parsed.message_id)
        self.named.update(msg.parents)

    def add(self, account: str, mid: int, msg: IncomingMessage) -> None:
        """A message of the batch stored as row ``mid``: the parents it names, to write."""
        self.refs += [(account, ref, mid) for ref in dict.fromkeys(msg.parents)]


@dataclass
class _Pending:
    """Rows of a batch made but not yet inserted, with what a lookup could find of them."""

    rows: list[tuple[dict[str, object], IncomingMessage]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    """Each row's thread key where its conversation is that of the key (to make or find)."""
    message_ids: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)

    def add(self, row: dict[str, object], msg: IncomingMessage, key: str | None) -> None:
        self.rows.append((row, msg))
        self.keys.append(key)
        if msg.parsed.message_id:
            self.message_ids.add(msg.parsed.message_id)
        self.parents.update(msg.parents)

    def answers_or_answered(self, msg: IncomingMessage) -> bool:
        """Whether ``msg`` answers a waiting row, or a waiting row answers it: its conversation
        lookup must see those rows stored."""
        return bool(msg.parsed.message_id in self.parents
                    or any(ref in self.message_ids for ref in msg.parents))

    def has_local_copy(self, message_id: str) -> bool:
        return any(msg.folder == LOCAL_COPY_FOLDER and msg.parsed.message_id == message_id
                   for _, msg in self.rows)

    def clear(self) -> None:
        self.rows.clear()
        self.keys.clear()
        self.message_ids.clear()
        self.parents.clear()

def _json_list(items: list[Any]) -> str:
    """A list column's JSON text, as ``json.dumps`` writes it: the empty list (most of them)
    without a trip through the encoder, a list of strings (addresses, references, reasons) with
    the encoder's own function for a string, joined as it joins them."""
    if not items:
        return "[]"
    if all(type(item) is str for item in items):
        return "[" + ", ".join(map(encode_basestring_ascii, items)) + "]"
    return json.dumps(items)
