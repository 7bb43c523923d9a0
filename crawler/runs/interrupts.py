"""Stop signals (SIGTERM, SIGINT) at any moment of a run: the run ends as interrupted, on record.

Scrapy stops gracefully on the first signal and uncleanly on the second (the spiders are not
closed: no outcome log, no report), installs its handler only once the reactor runs (a signal
while the crawlers are built is Python's, and the exception it raises is swallowed by a Twisted
Deferred), and a graceful stop asked before an engine runs is forgotten. So for the whole run a
signal only takes note and, once, asks every crawler to stop gracefully, as soon as its engine
runs; further signals change nothing. The crawl ends with close reason `shutdown`, the summary
says `interrupted`, the report is stored, the exit status is 1.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

LOG = logging.getLogger("newsarchive.interrupts")
SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_POLL_SECONDS = 0.1  # how often a crawler that is still opening is asked again


class Interruptions:
    """The signals this process received, and the crawl they stop."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.process: Any = None  # the running CrawlerProcess, if any
        self.stopping = False

    def hold(self) -> None:
        """From now on a stop signal is noted (and stops the crawl), never raised."""
        for number in SIGNALS:
            signal.signal(number, self._noted)

    def block(self) -> None:
        """The run is on record: stop signals from now to the exit wait unanswered (Python
        restores the default handlers while it shuts down, which would turn a last signal
        into a kill and the exit status into -15)."""
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)

    def release(self) -> None:
        """Back to stopping at once: SIGTERM exits 1 with the PROBLEM line, SIGINT is Python's."""
        signal.signal(signal.SIGTERM, stop_now)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def attach(self, process: Any) -> None:
        """The crawl a signal stops; before `process.start()`, which must then install no
        handler of its own (`install_signal_handlers=False`)."""
        from twisted.internet import reactor

        self.hold()
        self.process, self.stopping = process, False
        reactor.callWhenRunning(self._stop_if_asked)

    def detach(self) -> None:
        self.process = None

    def _noted(self, signum: int, frame: object) -> None:
        self.received.append(signal.Signals(signum).name)
        if self.process is not None:
            from twisted.internet import reactor

            reactor.callFromThread(self._stop_if_asked)  # never log in a signal handler

    def _stop_if_asked(self) -> None:
        if not self.received or self.process is None or self.stopping:
            return
        from twisted.internet import task

        self.stopping = True
        LOG.info("received %s: stopping gracefully (more signals change nothing)", self.received[0])
        self._stopped: set[Any] = set()
        self._loop = task.LoopingCall(self._stop_running_crawlers)
        self._loop.start(STOP_POLL_SECONDS, now=True)

    def _stop_running_crawlers(self) -> None:
        """Stop each crawler whose engine runs; try the others again shortly (a stop asked of
        an engine that is still opening would be forgotten by Scrapy)."""
        from scrapy.utils.defer import deferred_from_coro

        waiting = False
        for crawler in list(self.process.crawlers if self.process is not None else ()):
            if crawler in self._stopped:
                continue
            try:
                running = crawler.engine.running
            except RuntimeError:  # Scrapy: "not set yet", the engine is not built yet
                running = False
            if running and crawler.crawling:
                self._stopped.add(crawler)
                deferred_from_coro(crawler.stop_async())
            else:
                waiting = True
        if not waiting and self._loop.running:
            self._loop.stop()


def stop_now(signum: int, frame: object) -> None:
    """SIGTERM for a command that runs no crawl: said as an interruption, exit 1."""
    print("PROBLEM: interrupted: stopped by a signal", flush=True)
    raise SystemExit(1)


INTERRUPTIONS = Interruptions()
