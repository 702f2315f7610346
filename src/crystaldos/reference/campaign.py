"""Run one computation over many items on all cores, keeping every result as it arrives.

:func:`run_campaign` maps ``compute(item)`` over ``items`` in a pool of worker processes and
appends each returned record to a :class:`~crystaldos.reference.shards.RecordShards` store (a
record with a ``reason`` key is a failure and goes to the failures file), so a kill loses at most
the items in flight and a rerun that skips ``store.done_ids()`` carries on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from multiprocessing import get_context
from typing import Any

from crystaldos.reference.shards import RecordShards


def run_campaign(items: Sequence[Any], compute: Callable[[Any], dict], store: RecordShards, *,
                 workers: int = 1, initializer: Callable[..., None] | None = None,
                 initargs: tuple = (), report_every: int = 100,
                 log: Callable[[str], None] = print) -> tuple[int, int]:
    """Compute every item; returns (records written, failures). ``compute`` must be picklable
    (a module-level function or a ``functools.partial`` of one)."""
    start, written, failed = time.perf_counter(), 0, 0

    def keep(record: dict) -> None:
        nonlocal written, failed
        if "reason" in record:
            store.append_failure(record)
            failed += 1
        else:
            store.append(record)
            written += 1
        if (written + failed) % report_every == 0:
            rate = (written + failed) / (time.perf_counter() - start)
            log(f"{written} computed, {failed} failed, {rate * 3600:.0f}/h")

    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            keep(compute(item))
    else:
        with get_context("fork").Pool(workers, initializer, initargs,
                                      maxtasksperchild=200) as pool:
            for record in pool.imap_unordered(compute, items, chunksize=1):
                keep(record)
    log(f"done: {written} computed, {failed} failed in {time.perf_counter() - start:.0f} s")
    return written, failed
