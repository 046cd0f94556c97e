"""How often Python's cycle collector walks the young objects of replydesk's busy processes: the
engine and its parse workers."""

from __future__ import annotations

import gc

YOUNG_COLLECTION = 50_000
"""Containers allocated and not yet freed before the collector's youngest generation is walked.
A first sync holds up to a few tens of thousands of them in flight (the readings of the batches
between the workers and the store): at 20,000 the engine walked them 5-7 times in a sync of
10,000 replies (27-36 ms of its CPU, 4-5 ms a walk), at 50,000 once (8 ms), at 100,000 never."""


def fewer_collections(young: int = YOUNG_COLLECTION) -> None:
    """Python walks its youngest generation of containers every 700 allocated and not yet freed.
    The engine and its parse workers allocate in bursts that reference counting frees whole (a
    worker's answers for a frame, their pickle; in the engine, a batch's readings, then its rows):
    at the default a first sync of 10,000 messages ran about 240 young, 20 middle and 1-2 full
    collections in the engine, 5-8 % of its CPU. Past ``young``, those bursts end before the
    collector looks; cycles, what it is for, wait for at most that many containers (5-10 MB).
    Measured (bench/README, issue 18): the engine's CPU in a first sync 6 % less, a parse
    worker's about 3 % less. Process-wide: set once at start, never lowered, and a collector
    switched off (threshold 0) stays off."""
    first, *older = gc.get_threshold()
    if 0 < first < young:
        gc.set_threshold(young, *older)
