"""The SQLite schema and its migrations, keyed on ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` moves the database one version up; a database from a newer
replydesk is refused rather than guessed at. The PostgreSQL schema (``app.store.schema_pg``) mirrors
every version: a migration added here gets its counterpart there (tests/test_store_pg.py compares
the two schemas table by table, column by column).
"""

from __future__ import annotations

V1 = """
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'new',
    last_error TEXT,
    hint TEXT,
    state_changed REAL,
    last_push REAL,
    last_sync REAL,
    sync_done INTEGER NOT NULL DEFAULT 0,
    sync_total INTEGER NOT NULL DEFAULT 0,
    capabilities TEXT NOT NULL DEFAULT '',
    smtp_ok INTEGER,  -- the last submission reached the server (1) or not (0); NULL: none yet
    smtp_error TEXT,
    smtp_checked REAL
);

CREATE TABLE folders (
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT,
    uidvalidity INTEGER,
    highest_uid INTEGER NOT NULL DEFAULT 0,
    highestmodseq INTEGER,
    uidnext INTEGER,
    message_count INTEGER,
    last_checked REAL,
    PRIMARY KEY (account, name)
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    counterpart TEXT NOT NULL DEFAULT '',
    counterpart_name TEXT NOT NULL DEFAULT '',
    snippet TEXT NOT NULL DEFAULT '',
    kind TEXT,
    category TEXT,
    last_message_at REAL,
    last_inbound_at REAL,
    last_inbound_id INTEGER,
    message_count INTEGER NOT NULL DEFAULT 0,
    inbound_count INTEGER NOT NULL DEFAULT 0,
    unread_count INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, thread_key)
);
CREATE INDEX conversations_inbox ON conversations (last_inbound_at DESC, id DESC)
    WHERE last_inbound_at IS NOT NULL;
CREATE INDEX conversations_category ON conversations (category, last_inbound_at DESC, id DESC);
CREATE INDEX conversations_kind ON conversations (kind, last_inbound_at DESC, id DESC);
CREATE INDEX conversations_account ON conversations (account, last_inbound_at DESC, id DESC);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message_id TEXT,
    in_reply_to TEXT,
    refs TEXT NOT NULL DEFAULT '[]',
    thread_key TEXT,
    conversation_id INTEGER REFERENCES conversations (id),
    direction TEXT NOT NULL DEFAULT 'in',
    from_addr TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL DEFAULT '',
    to_addrs TEXT NOT NULL DEFAULT '[]',
    cc_addrs TEXT NOT NULL DEFAULT '[]',
    reply_to TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL DEFAULT '',
    sent_at REAL,
    received_at REAL NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '',
    modseq INTEGER,
    kind TEXT NOT NULL DEFAULT 'human',
    category TEXT NOT NULL DEFAULT 'uncategorized',
    category_source TEXT NOT NULL DEFAULT 'classifier',
    confidence REAL,
    reasons TEXT NOT NULL DEFAULT '[]',
    bounce_recipients TEXT NOT NULL DEFAULT '[]',
    ooo_until TEXT,
    referral TEXT,
    body_text TEXT NOT NULL DEFAULT '',
    new_text TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    snippet TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    defects TEXT NOT NULL DEFAULT '[]',
    size INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, folder, uidvalidity, uid)
);
CREATE INDEX messages_message_id ON messages (account, message_id);

-- The parents (In-Reply-To, References) each stored message names: finds the conversation of a
-- reply stored before the message it answers without scanning every row (a LIKE over refs made
-- a 10,000-message first sync quadratic).
CREATE TABLE message_refs (
    account TEXT NOT NULL,
    ref TEXT NOT NULL,
    message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE
);
CREATE INDEX message_refs_ref ON message_refs (account, ref);
CREATE INDEX message_refs_message ON message_refs (message);
CREATE INDEX messages_conversation ON messages (conversation_id, received_at);
CREATE INDEX messages_received ON messages (received_at DESC, id DESC);

-- Full-text search over a capped text field: indexing whole bodies costs most of the insert time.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    subject, sender, search_text, content='messages', content_rowid='id'
);
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, subject, sender, search_text)
    VALUES (new.id, new.subject, new.sender, new.search_text);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender, old.search_text);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF subject, sender, search_text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender, old.search_text);
    INSERT INTO messages_fts (rowid, subject, sender, search_text)
    VALUES (new.id, new.subject, new.sender, new.search_text);
END;

-- A user's label, keyed on Message-ID so it survives a UIDVALIDITY rescan or a new machine.
CREATE TABLE labels (
    account TEXT NOT NULL,
    message_id TEXT NOT NULL,
    category TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (account, message_id)
);

-- Replies to send. The composed bytes are kept until the server accepted them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    reply_to_message INTEGER REFERENCES messages (id),
    conversation_id INTEGER REFERENCES conversations (id),
    message_id TEXT NOT NULL UNIQUE,
    recipients TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    raw BLOB,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    submitted_at REAL,  -- DATA began: from here a crash leaves delivery unknown until Sent is checked
    sent_at REAL
);
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);

-- Changes to make on the server, run by the account's watcher between IDLEs.
CREATE TABLE pending_ops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    op TEXT NOT NULL,
    message INTEGER REFERENCES messages (id),
    args TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX pending_ops_account ON pending_ops (account, state, id);

CREATE TABLE suppressions (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    source_message INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);

-- Triage actions, newest last, so the UI can undo them.
CREATE TABLE triage_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    undo TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

V2 = """
-- The classifier's own verdict, kept when the user labels a message: a label cleared on another
-- machine hands the message back to it. Rows labelled before this version never had one kept.
ALTER TABLE messages ADD COLUMN auto_category TEXT;
UPDATE messages SET auto_category = category WHERE category_source = 'classifier';
"""

V_FOLLOWUPS = """
-- Follow-ups (app/store/followups.py): when a snoozed or waiting conversation comes back, why,
-- and the private note. A conversation that came back sorts by the time it did.
ALTER TABLE conversations ADD COLUMN snoozed_until REAL;
ALTER TABLE conversations ADD COLUMN snooze_reason TEXT;
ALTER TABLE conversations ADD COLUMN snoozed_at REAL;
ALTER TABLE conversations ADD COLUMN waiting_since REAL;
ALTER TABLE conversations ADD COLUMN woke_at REAL;
ALTER TABLE conversations ADD COLUMN woke_reason TEXT;
ALTER TABLE conversations ADD COLUMN ooo_message INTEGER;
ALTER TABLE conversations ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;
CREATE INDEX conversations_waiting ON conversations (waiting_since) WHERE waiting_since IS NOT NULL;
"""

V_WOKE_INDEX = """
-- Terminals ask which conversations came back since they last looked.
CREATE INDEX conversations_woke ON conversations (woke_at) WHERE woke_at IS NOT NULL;
"""

V_ARRIVALS = """
-- How new mail reaches a mailbox: the delay from the server's arrival time (INTERNALDATE) to the
-- stored row for the newest message found, and whether a server push (IDLE) or a poll found it.
ALTER TABLE accounts ADD COLUMN arrival_latency REAL;
ALTER TABLE accounts ADD COLUMN arrival_via TEXT;
"""

V_NOISE = """
-- Noise before intent: a person's answer is kind 'reply' (it was 'human'); warmup, internal and
-- bulk mail are kinds of their own. The classifier's kind is kept beside the one shown, so a
-- message the user marked as warmup goes back to it when unmarked.
ALTER TABLE messages ADD COLUMN auto_kind TEXT;
UPDATE messages SET kind = 'reply' WHERE kind = 'human';
UPDATE messages SET auto_kind = kind WHERE direction = 'in';
UPDATE conversations SET kind = 'reply' WHERE kind = 'human';

-- Warmup tags replydesk proposed from the user's marks, and what the user answered: a rejected
-- tag is not proposed again.
CREATE TABLE warmup_proposals (
    tag TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    decided_at REAL NOT NULL
);
"""

V_BOUNCES = """
-- Every failed recipient of a bounce or complaint, one row per address and message (a rescan of
-- the folder stores the message again: ``source`` keeps it counted once). Repeated soft bounces
-- escalate to the suppression list, and the health screen counts complaints, from here.
CREATE TABLE bounce_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    message INTEGER,
    reason TEXT NOT NULL,
    hard INTEGER NOT NULL,
    complaint INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    at REAL NOT NULL,
    UNIQUE (address, account, source)
);
CREATE INDEX bounce_events_address ON bounce_events (address, at);
CREATE INDEX bounce_events_account ON bounce_events (account, at);
INSERT OR IGNORE INTO bounce_events (address, account, source, message, reason, hard, status, at)
    SELECT lower(json_extract(j.value, '$.address')), m.account, coalesce(m.message_id, 'row:' || m.id),
           m.id, coalesce(json_extract(j.value, '$.reason'), 'other'),
           coalesce(json_extract(j.value, '$.hard'), 0), json_extract(j.value, '$.status'), m.received_at
    FROM messages m, json_each(m.bounce_recipients) j
    WHERE m.direction = 'in' AND m.kind = 'bounce' AND json_extract(j.value, '$.address') IS NOT NULL;

-- What the suppression list tells a sending platform: the failure's reason (app.mail.bounce_reason),
-- hard or soft, when it was first and last seen, how many bounces, and the mailbox that got them.
ALTER TABLE suppressions ADD COLUMN bounce_reason TEXT;
ALTER TABLE suppressions ADD COLUMN hard INTEGER;
ALTER TABLE suppressions ADD COLUMN first_seen REAL;
ALTER TABLE suppressions ADD COLUMN last_seen REAL;
ALTER TABLE suppressions ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE suppressions ADD COLUMN mailbox TEXT;
UPDATE suppressions SET first_seen = created_at, last_seen = created_at,
    hard = CASE WHEN reason = 'hard_bounce' THEN 1 END,
    mailbox = (SELECT account FROM messages WHERE id = suppressions.source_message);
"""

V_INTENT_EXAMPLES = """
-- The user's labels of replies, as examples for the classifier's local model (app.mail.learn):
-- the new text the prospect wrote and the label. Keyed like ``bounce_events.source`` (Message-ID,
-- else the row), so a rescan does not count one reply twice. They live here only: never in the
-- logs, the config or on a server.
CREATE TABLE intent_examples (
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    new_text TEXT NOT NULL,
    category TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (account, source)
);
CREATE INDEX intent_examples_updated ON intent_examples (updated DESC);
INSERT OR IGNORE INTO intent_examples (account, source, new_text, category, updated)
    SELECT account, coalesce(message_id, 'row:' || id), new_text, category, received_at FROM messages
    WHERE direction = 'in' AND kind = 'reply' AND category_source = 'user' AND trim(new_text) != ''
      AND category IN ('interested', 'meeting', 'not_interested', 'unsubscribe', 'wrong_person');
"""

V_EVENTS = """
-- What happened, for the sending platforms and webhooks (app/sequencers): written by triggers in
-- the transaction of the change itself, whoever made it (the UI, the CLI, the engine, an undo),
-- and only for the types a configured target wants (event_types, kept by the engine).
CREATE TABLE event_types (type TEXT PRIMARY KEY);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    lead TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
-- One row per (target, event) to deliver: retried with backoff, in order per lead (per target
-- for webhooks), until done or dead (given up: shown on the health screen).
CREATE TABLE deliveries (
    target TEXT NOT NULL,
    event INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ordering TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at REAL,
    PRIMARY KEY (target, event)
);
CREATE INDEX deliveries_pending ON deliveries (target, state, ordering, event);
CREATE TABLE delivery_cursors (target TEXT PRIMARY KEY, last_event INTEGER NOT NULL);

CREATE TRIGGER events_label AFTER UPDATE OF category ON messages
WHEN new.direction = 'in' AND new.category IS NOT old.category
     AND (new.category_source = 'user' OR old.category_source = 'user')
     AND EXISTS (SELECT 1 FROM event_types WHERE type = 'reply.categorized')
BEGIN
    INSERT INTO events (type, lead, payload) VALUES ('reply.categorized', new.from_addr, json_object(
        'message', new.id, 'account', new.account, 'message_id', new.message_id, 'email', new.from_addr,
        'name', new.from_name, 'subject', new.subject, 'category', new.category,
        'previous', old.category, 'by', new.category_source, 'conversation', new.conversation_id));
END;

CREATE TRIGGER events_reply AFTER INSERT ON messages
WHEN new.direction = 'in' AND new.kind IN ('human', 'reply')
     AND new.received_at >= (julianday('now') - 2440587.5) * 86400.0 - 86400
     AND EXISTS (SELECT 1 FROM event_types WHERE type = 'reply.received')
BEGIN
    INSERT INTO events (type, lead, payload) VALUES ('reply.received', new.from_addr, json_object(
        'message', new.id, 'account', new.account, 'message_id', new.message_id, 'email', new.from_addr,
        'name', new.from_name, 'subject', new.subject, 'category', new.category,
        'snippet', new.snippet, 'conversation', new.conversation_id));
END;

CREATE TRIGGER events_sent AFTER UPDATE OF state ON outbox
WHEN new.state = 'sent' AND old.state IS NOT 'sent'
     AND EXISTS (SELECT 1 FROM event_types WHERE type = 'reply.sent')
BEGIN
    INSERT INTO events (type, lead, payload) VALUES ('reply.sent', coalesce(json_extract(new.recipients, '$[0]'), ''),
        json_object('outbox', new.id, 'account', new.account, 'message_id', new.message_id,
                    'recipients', json(new.recipients), 'subject', new.subject,
                    'conversation', new.conversation_id));
END;

CREATE TRIGGER events_suppression AFTER INSERT ON suppressions
WHEN EXISTS (SELECT 1 FROM event_types WHERE type = 'suppression.added')
BEGIN
    INSERT INTO events (type, lead, payload) VALUES ('suppression.added', new.address, json_object(
        'email', new.address, 'reason', new.reason, 'detail', new.detail, 'message', new.source_message));
END;
"""

V_NOTES_INDEX = """
-- Search looks at notes too: only the few conversations that have one.
CREATE INDEX conversations_noted ON conversations (id) WHERE note != '';
"""

V_TEAM = """
-- Team triage: who a conversation is assigned to, and who did what (app/store/activity.py).
-- Triggers write the history in the transaction of the change itself, whoever made it (the UI,
-- the CLI, the engine, an undo); ``replydesk_user()`` is the acting user, a function every
-- connection of replydesk registers (app/store/db.py). Notes are private: only that one was
-- edited or removed is kept, never their text.
ALTER TABLE conversations ADD COLUMN assigned_to TEXT;
CREATE INDEX conversations_assigned ON conversations (assigned_to, last_inbound_at DESC, id DESC)
    WHERE assigned_to IS NOT NULL;
CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    waited REAL  -- a reply: seconds from the prospect's last message to it
);
CREATE INDEX activity_conversation ON activity (conversation, id);
CREATE INDEX activity_at ON activity (at);
CREATE INDEX activity_user ON activity (user, at);

CREATE TRIGGER activity_label AFTER UPDATE OF category ON messages
WHEN new.direction = 'in' AND new.category IS NOT old.category
     AND (new.category_source = 'user' OR old.category_source = 'user')
BEGIN
    INSERT INTO activity (user, action, conversation, detail) VALUES (replydesk_user(), 'label',
        new.conversation_id, CASE WHEN new.category_source = 'user' THEN new.category
                                  ELSE 'cleared (' || new.category || ')' END);
END;

CREATE TRIGGER activity_assign AFTER UPDATE OF assigned_to ON conversations
WHEN new.assigned_to IS NOT old.assigned_to
BEGIN
    INSERT INTO activity (user, action, conversation, detail)
    VALUES (replydesk_user(), CASE WHEN new.assigned_to IS NULL THEN 'unassign' ELSE 'assign' END, new.id,
            coalesce(new.assigned_to, old.assigned_to));
END;

CREATE TRIGGER activity_snooze AFTER UPDATE OF snoozed_until ON conversations
WHEN new.snoozed_until IS NOT old.snoozed_until
BEGIN
    INSERT INTO activity (user, action, conversation, detail)
    VALUES (replydesk_user(), CASE WHEN new.snoozed_until IS NULL THEN 'unsnooze' ELSE 'snooze' END, new.id,
            CASE WHEN new.snoozed_until IS NULL THEN coalesce(new.woke_reason, '')
                 ELSE strftime('%Y-%m-%d %H:%M UTC', new.snoozed_until, 'unixepoch')
                      || ' (' || coalesce(new.snooze_reason, 'snooze') || ')' END);
END;

CREATE TRIGGER activity_note AFTER UPDATE OF note ON conversations
WHEN new.note IS NOT old.note
BEGIN
    INSERT INTO activity (user, action, conversation, detail)
    VALUES (replydesk_user(), 'note', new.id, CASE WHEN new.note = '' THEN 'removed' ELSE 'edited' END);
END;

CREATE TRIGGER activity_suppression AFTER INSERT ON suppressions
BEGIN
    INSERT INTO activity (user, action, conversation, detail)
    VALUES (replydesk_user(), 'suppress',
            (SELECT conversation_id FROM messages WHERE id = new.source_message),
            new.address || ' (' || new.reason || ')');
END;

CREATE TRIGGER activity_reply AFTER INSERT ON outbox
WHEN new.state = 'queued'
BEGIN
    INSERT INTO activity (user, action, conversation, detail, waited)
    VALUES (replydesk_user(), 'reply', new.conversation_id, new.subject,
            new.created_at - (SELECT last_inbound_at FROM conversations WHERE id = new.conversation_id));
END;

CREATE TRIGGER activity_reply_draft AFTER UPDATE OF state ON outbox
WHEN old.state = 'draft' AND new.state = 'queued'
BEGIN
    INSERT INTO activity (user, action, conversation, detail, waited)
    VALUES (replydesk_user(), 'reply', new.conversation_id, new.subject,
            new.updated_at - (SELECT last_inbound_at FROM conversations WHERE id = new.conversation_id));
END;
"""

V_PRESENCE = """
-- Who has a conversation open where (app/store/activity.py): one row per terminal, refreshed by
-- its heartbeat; a row whose heartbeat is older than PRESENCE_SECONDS is a closed or killed
-- terminal and is ignored (and swept by the next heartbeat of any terminal).
CREATE TABLE presence (
    terminal TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    conversation INTEGER NOT NULL,
    state TEXT NOT NULL,  -- viewing | replying
    heartbeat REAL NOT NULL
);
CREATE INDEX presence_conversation ON presence (conversation);
"""

V_COUNTS = """
-- How many conversations each view, category, mailbox and unread filter holds, kept by triggers
-- in the transaction that changes a conversation, so the inbox reads its counts in a few rows
-- instead of scanning every conversation (a second at a million messages). One row per value of
-- what the views decide on (app/store/inbox.py VIEW_CLAUSES): the mailbox, the category, the kind,
-- archived, unread, came back (woke), snoozed or waiting, and the assignee ('' with assigned = 0:
-- no one). Only conversations with an inbound message (last_inbound_at) are listed, and counted.
-- Nothing here depends on the clock or on who reads it: a snooze ends by the engine's update of
-- the row, and the Mine view compares the assignee with the reader when it reads.
CREATE TABLE conversation_counts (
    account TEXT NOT NULL,
    category TEXT NOT NULL,
    kind TEXT NOT NULL,
    archived INTEGER NOT NULL,
    unread INTEGER NOT NULL,
    woke INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    assigned INTEGER NOT NULL,
    assignee TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (account, category, kind, archived, unread, woke, pending, assigned, assignee)
) WITHOUT ROWID;

CREATE TRIGGER conversation_counts_ai AFTER INSERT ON conversations
WHEN new.last_inbound_at IS NOT NULL
BEGIN
    INSERT INTO conversation_counts VALUES (new.account, coalesce(new.category, ''), coalesce(new.kind, ''),
        new.archived, new.unread_count > 0, new.woke_reason IS NOT NULL,
        new.snoozed_until IS NOT NULL OR new.waiting_since IS NOT NULL,
        new.assigned_to IS NOT NULL, coalesce(new.assigned_to, ''), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversation_counts_ad AFTER DELETE ON conversations
WHEN old.last_inbound_at IS NOT NULL
BEGIN
    UPDATE conversation_counts SET n = n - 1
    WHERE account = old.account AND category = coalesce(old.category, '') AND kind = coalesce(old.kind, '')
      AND archived = old.archived AND unread = (old.unread_count > 0) AND woke = (old.woke_reason IS NOT NULL)
      AND pending = (old.snoozed_until IS NOT NULL OR old.waiting_since IS NOT NULL)
      AND assigned = (old.assigned_to IS NOT NULL) AND assignee = coalesce(old.assigned_to, '');
END;

CREATE TRIGGER conversation_counts_au AFTER UPDATE OF account, category, kind, archived, unread_count,
    woke_reason, snoozed_until, waiting_since, assigned_to, last_inbound_at ON conversations
WHEN (old.last_inbound_at IS NULL, old.account, old.category, old.kind, old.archived, old.unread_count > 0,
      old.woke_reason IS NULL, old.snoozed_until IS NULL AND old.waiting_since IS NULL, old.assigned_to)
  IS NOT (new.last_inbound_at IS NULL, new.account, new.category, new.kind, new.archived, new.unread_count > 0,
      new.woke_reason IS NULL, new.snoozed_until IS NULL AND new.waiting_since IS NULL, new.assigned_to)
BEGIN
    UPDATE conversation_counts SET n = n - 1
    WHERE old.last_inbound_at IS NOT NULL
      AND account = old.account AND category = coalesce(old.category, '') AND kind = coalesce(old.kind, '')
      AND archived = old.archived AND unread = (old.unread_count > 0) AND woke = (old.woke_reason IS NOT NULL)
      AND pending = (old.snoozed_until IS NOT NULL OR old.waiting_since IS NOT NULL)
      AND assigned = (old.assigned_to IS NOT NULL) AND assignee = coalesce(old.assigned_to, '');
    INSERT INTO conversation_counts SELECT new.account, coalesce(new.category, ''), coalesce(new.kind, ''),
        new.archived, new.unread_count > 0, new.woke_reason IS NOT NULL,
        new.snoozed_until IS NOT NULL OR new.waiting_since IS NOT NULL,
        new.assigned_to IS NOT NULL, coalesce(new.assigned_to, ''), 1
    WHERE new.last_inbound_at IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

INSERT INTO conversation_counts
    SELECT account, coalesce(category, ''), coalesce(kind, ''), archived, unread_count > 0, woke_reason IS NOT NULL,
           snoozed_until IS NOT NULL OR waiting_since IS NOT NULL, assigned_to IS NOT NULL,
           coalesce(assigned_to, ''), count(*)
    FROM conversations WHERE last_inbound_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
"""

V_FORWARDS = """
-- A message in the outbox is a reply (the default) or a forward of one of the conversation's
-- messages to someone else: sending a forward neither marks the original answered nor starts
-- the wait for the prospect's answer, and the compose screen reopens each as what it is.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
"""

V_STORE_ID = """
-- Which store this is: `replydesk db copy` carries it to the copy, and refuses to overwrite a
-- database that holds another store.
CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
"""

V_FORWARD_NOT_REPLY = """
-- A forward (outbox kind 'forward') goes to a colleague, not to the prospect: the history records
-- replies only, so a forward neither counts as one nor shortens the time to answer.
DROP TRIGGER activity_reply;
DROP TRIGGER activity_reply_draft;

CREATE TRIGGER activity_reply AFTER INSERT ON outbox
WHEN new.state = 'queued' AND new.kind = 'reply'
BEGIN
    INSERT INTO activity (user, action, conversation, detail, waited)
    VALUES (replydesk_user(), 'reply', new.conversation_id, new.subject,
            new.created_at - (SELECT last_inbound_at FROM conversations WHERE id = new.conversation_id));
END;

CREATE TRIGGER activity_reply_draft AFTER UPDATE OF state ON outbox
WHEN old.state = 'draft' AND new.state = 'queued' AND new.kind = 'reply'
BEGIN
    INSERT INTO activity (user, action, conversation, detail, waited)
    VALUES (replydesk_user(), 'reply', new.conversation_id, new.subject,
            new.updated_at - (SELECT last_inbound_at FROM conversations WHERE id = new.conversation_id));
END;
"""

V_OUTBOX_SENT = """
-- Sent and drafts lists the newest sent replies after the ones that did not go: read from this
-- index instead of sorting every reply ever sent at each refresh. A sent item always has sent_at.
CREATE INDEX outbox_sent ON outbox (sent_at DESC, id DESC) WHERE state = 'sent';
"""

V_LEASES = """
-- Engines sharing a store's mailboxes (a PostgreSQL store; app/store/leases.py): each engine beats
-- its heartbeat here, and holds a mailbox while its lease has not expired. One engine holds a
-- mailbox's IDLE and drains its outbox; a dead engine's leases expire and the others take them.
-- The times are the database's clock, never an engine's.
CREATE TABLE engines (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL
);
CREATE TABLE leases (
    account TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX leases_owner ON leases (owner);
"""

MIGRATIONS: list[str] = [V1, V2, V_FOLLOWUPS, V_WOKE_INDEX, V_ARRIVALS, V_NOISE, V_BOUNCES, V_INTENT_EXAMPLES,
                         V_EVENTS, V_NOTES_INDEX, V_TEAM, V_PRESENCE, V_COUNTS, V_FORWARDS,
                         V_STORE_ID, V_FORWARD_NOT_REPLY, V_OUTBOX_SENT, V_LEASES]
SCHEMA_VERSION = len(MIGRATIONS)
