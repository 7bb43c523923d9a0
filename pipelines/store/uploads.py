"""S3 writes from helper processes: a crawl's conditional PUTs leave the crawl's own process.

Measured with bench/upload_paths.py on 2 cores: botocore spends about 3 ms of Python per PUT
(building the request, signing, http.client), all of it under the crawl process's GIL, which
also runs Scrapy and the parsers. More threads or connections, botocore's CRT signer and
fewer botocore checks did not move the articles archived per second; a second process did
(1.4-1.5x). So the `put_if_absent` calls of an S3 archive go to `archive.upload_processes`
helper processes, each with its own client built from the same settings, and the calling
thread waits for the answer. Nothing else changes: the same create-only PUT, the same
StoreError / StoreUnavailable (pickled back), the same botocore retries.

The helpers start on the first write (readers never start them), ignore SIGINT and SIGTERM
(the crawl decides when writing ends: an interrupted crawl still finishes what is in flight),
and exit when the crawl process exits or dies (their pipe closes).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from pipelines.store.base import StoreOptions, StoreUnavailable

_STORE: Any = None  # the helper process's own S3Store


def _start_helper(open_store: Callable[[StoreOptions], Any], options: StoreOptions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    global _STORE
    _STORE = open_store(options)


def _put(key: str, data: bytes, content_type: str, encoding: str | None,
         metadata: dict[str, str]) -> bool:  # fmt: skip
    return bool(_STORE.put_if_absent(key, data, content_type, encoding, metadata))


class UploadProcesses:
    """A pool of helper processes doing an S3 archive's conditional PUTs."""

    def __init__(
        self, options: StoreOptions, processes: int, open_store: Callable[[StoreOptions], Any]
    ) -> None:
        """`open_store`: a module-level function (helpers import it by name) opening the
        store a helper writes through, without helpers of its own."""
        self.options = options
        self.processes = processes
        self.open_store = open_store
        # Longest a PUT can take in a helper: botocore's timeouts over all its attempts.
        self.timeout = (10 + 30) * max(options.retry_attempts, 1) + 30
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: set[Future[bool]] = set()  # submitted, answer not read yet

    @property
    def started(self) -> bool:
        """Whether the helpers are running (they start on the first write)."""
        return self._pool is not None

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=get_context("spawn"),  # never fork a process with threads
                    initializer=_start_helper,
                    initargs=(self.open_store, self.options),
                )
            return self._pool

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        pool = self.pool()
        future = pool.submit(_put, key, data, content_type, content_encoding,
                             dict(metadata or {}))  # fmt: skip
        with self._lock:
            self._waiting.add(future)
        try:
            return bool(future.result(timeout=self.timeout))
        except StoreUnavailable:
            # The archive is down: the writes still queued behind this one would each wait
            # out botocore's retries in turn. They are cancelled and spooled by their callers.
            self._cancel_waiting()
            raise
        except CancelledError:
            raise StoreUnavailable(f"the archive went down before {key} was written") from None
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None  # the next write starts new helpers
            raise StoreUnavailable(
                f"the upload helper process stopped while writing {key}"
            ) from None
        except FutureTimeout:
            raise StoreUnavailable(
                f"no answer from the upload helper within {self.timeout} s for {key}"
            ) from None
        finally:
            with self._lock:
                self._waiting.discard(future)

    def _cancel_waiting(self) -> None:
        with self._lock:
            waiting = list(self._waiting)
        for future in waiting:
            future.cancel()  # only those no helper has taken yet

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
