"""``replydesk demo``: embedded IMAP (pymap) and SMTP (aiosmtpd) servers on loopback, ten
sending mailboxes, prospects who reply, bounce and answer back.

``session.start_demo()`` is the entry point: it runs ``world`` (the servers and the
simulated prospects) in a child process and writes an ordinary config for it. The engine and
the UI then run on that config with no knowledge of the demo.
"""
