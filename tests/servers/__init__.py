"""Real servers on loopback for tests and benchmarks: Dovecot (IMAP, LMTP) and aiosmtpd (SMTP)."""
