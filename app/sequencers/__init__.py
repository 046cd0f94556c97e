"""Decisions flow back: the sending platforms (Instantly, Smartlead) and outgoing webhooks.

``platforms`` and ``webhooks`` build requests (pure); ``http`` sends one over verified TLS;
``dispatch`` runs in the engine and delivers the store's event journal to every configured
target, durably (``app/store/events.py``). Neither the UI nor the engine knows which platform
is behind a target.
"""
