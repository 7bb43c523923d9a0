"""Alerts: a run's findings (crawler/health/monitors.py) to the channels people already read.

Delivery is apprise: one URL per channel (`mailto://`, `slack://`, `tgram://`, `matrix://`,
`ntfy://`, `json://` for a plain JSON webhook, ...), so no sender is written here.

Against alert storms: at most one message per site per run, findings that were already
there in the site's previous comparable run summarised in one "still" line, and one
"recovered" message when a site that had findings has none. A channel that fails never fails
the crawl: the failure is logged and written into the run report. Channel URLs hold secrets
(passwords, bot tokens), so a channel is only ever named by its scheme and position.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any

from crawler.health.monitors import Finding, at_least

LOG = logging.getLogger("newsarchive.alerts")
TITLE_PREFIX = "newsarchive"


@dataclass(frozen=True)
class Message:
    site: str
    title: str
    body: str
    recovered: bool = False


def messages(
    findings: list[Finding], previous: list[Finding], min_level: str, run: str
) -> list[Message]:
    """One message per site with findings at min_level or above, and one per site that had
    some in its previous comparable run and has none now."""
    now = _by_site([f for f in findings if at_least(f.level, min_level)])
    before = _by_site([f for f in previous if at_least(f.level, min_level)])
    out = []
    for site, found in sorted(now.items()):
        known = {f.name for f in before.get(site, [])}
        new = [f for f in found if f.name not in known]
        still = [f for f in found if f.name in known]
        worst = "critical" if any(f.level == "critical" for f in found) else "warning"
        lines = [f"- {f.level}: {f.name}: {f.detail}" for f in new]
        if still:
            lines.append("- still, as in the previous run: " + ", ".join(f.name for f in still))
        headline = (new or still)[0]
        out.append(
            Message(
                site,
                f"{TITLE_PREFIX} {worst}: {site}: {headline.detail}",
                f"{run}\n" + "\n".join(lines),
            )
        )
    for site, had in sorted(before.items()):
        if site not in now:
            names = ", ".join(f.name for f in had)
            out.append(
                Message(
                    site,
                    f"{TITLE_PREFIX}: {site} recovered",
                    f"{run}\nno findings now (the previous run had: {names})",
                    recovered=True,
                )
            )
    return out


def channel_name(index: int, url: str) -> str:
    """How a channel is named in logs and reports: never its URL (it holds secrets)."""
    scheme = url.split("://", 1)[0] if "://" in url else "unknown"
    return f"channel {index + 1} ({scheme})"


def deliver(urls: tuple[str, ...], outgoing: list[Message]) -> dict[str, Any]:
    """Send each message to every channel; what was sent and what failed (for the report)."""
    result: dict[str, Any] = {"messages": len(outgoing), "sent": 0, "failed": []}
    if not outgoing or not urls:
        return result
    with warnings.catch_warnings():
        # apprise's e-mail plug-in imports the standard imghdr, deprecated since Python 3.11
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        _deliver(urls, outgoing, result)
    return result


def _deliver(urls: tuple[str, ...], outgoing: list[Message], result: dict[str, Any]) -> None:
    import apprise

    # Apprise's lines name hosts, users and parts of tokens: they are captured and scrubbed
    # below, never passed to the crawl's log as they are.
    logging.getLogger("apprise").propagate = False
    for index, url in enumerate(urls):
        name = channel_name(index, url)
        channel = apprise.Apprise()
        with apprise.LogCapture(level=logging.WARNING) as captured:
            loaded = channel.add(url)
            delivered = 0
            for message in outgoing if loaded else []:
                if channel.notify(title=message.title, body=message.body):
                    delivered += 1
        said = _scrub(captured.getvalue(), url)
        if not loaded:
            error = "not a usable apprise URL"
        elif delivered < len(outgoing):
            error = said.strip().splitlines()[-1] if said.strip() else "delivery failed"
        else:
            result["sent"] += delivered
            continue
        result["sent"] += delivered
        result["failed"].append({"channel": name, "error": error[:300]})
        LOG.error("alert %s failed: %s", name, error[:300])


def _scrub(text: str, url: str) -> str:
    """Apprise's own log lines, without anything of the URL that could be a secret."""
    rest = url.split("://", 1)[-1]
    for piece in sorted(set(re.split(r"[/:@?&=#]", rest)), key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "***")
    return text


def _by_site(findings: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.site, []).append(finding)
    return grouped
