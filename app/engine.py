"""The engine: one IMAP watcher per account and the outbox drainer, behind a single-engine lock."""
