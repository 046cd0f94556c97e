"""IMAP: connect (implicit TLS or STARTTLS), authenticate, discover folders, UID sync, the IDLE
loop with reconnects, and the server side of user actions (pending ops).

``AccountWatcher`` (watcher.py) is what the engine runs per account; ``ImapConnection``
(connection.py) is the one place that talks to aioimaplib.
"""
