"""Many requests in flight, results in order: how a reader that must touch every object keeps
pace with S3's latency.

S3 answers each request after tens of milliseconds whatever its size, and expects clients to
scale by parallel connections (thousands of GETs per second per prefix), so a reader that
GETs one object at a time waits on latency. `ordered_map` keeps up to `concurrency` calls
running in threads (boto3 clients are thread-safe; the S3 store's pool is sized for it) and
yields their results in the order of their inputs, so output stays stable, holding at most
twice `concurrency` results at once whatever the archive's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def ordered_map(fn: Callable[[In], Out], items: Iterable[In], concurrency: int) -> Iterator[Out]:
    """fn over items, at most `concurrency` calls running at once, results in input order."""
    if concurrency <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(concurrency, thread_name_prefix="archive-read") as pool:
        pending: deque[Future[Out]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * concurrency:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # a reader that stops early does not wait for the rest
                future.cancel()
