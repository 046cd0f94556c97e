"""replydesk: a terminal master inbox for cold-email senders."""

__version__ = "0.1.0"
