"""What a load run looks like as numbers: throughput over time, latency spread, link traffic.

Pure functions over the samples of `payviz.engine.load` (or over trace records), shared by
`payviz load`'s table and the desktop app's load dialog, which draws them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from payviz.engine._types import Party
from payviz.engine.trace import Message, Record

from .topology import LINK_INFO, link_key

if TYPE_CHECKING:
    from payviz.engine.load import HopSample

Link = tuple[Party, Party]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class HopLatency:
    """The latency of one directed link (requester -> responder), in seconds."""

    link: Link
    count: int
    failed: int
    p50: float
    p95: float
    p99: float

    @property
    def name(self) -> str:
        return f"{self.link[0]}->{self.link[1]}"


def _link_order(link: Link) -> tuple[int, int]:
    """Links in the order the diagram lists them, then the way the request travels."""
    keys = list(LINK_INFO)
    key = link_key(*link)
    return (keys.index(key) if key in keys else len(keys), 0 if link == key else 1)


def hop_latencies(hops: Iterable[HopSample]) -> list[HopLatency]:
    """p50/p95/p99 of every directed link that carried a request, in diagram order."""
    by_link: dict[Link, list[float]] = {}
    failures: dict[Link, int] = {}
    for hop in hops:
        by_link.setdefault(hop.link, []).append(hop.seconds)
        failures[hop.link] = failures.get(hop.link, 0) + int(hop.failed)
    return [
        HopLatency(
            link,
            len(values),
            failures[link],
            percentile(values, 50),
            percentile(values, 95),
            percentile(values, 99),
        )
        for link, values in sorted(by_link.items(), key=lambda item: _link_order(item[0]))
    ]


def throughput_series(
    finished: Sequence[float], bucket: float = 0.5, window: float | None = None
) -> list[tuple[float, float]]:
    """(time, checkouts per second) at the end of each `bucket` seconds of the run, from
    the moments checkouts finished, averaged over the last `window` seconds (default: one
    bucket). Checkouts finish in bursts, so a window of a few buckets reads better."""
    if not finished or bucket <= 0:
        return []
    buckets = [0] * (int(max(finished) // bucket) + 1)
    for moment in finished:
        buckets[int(moment // bucket)] += 1
    span = max(1, round((window or bucket) / bucket))
    series: list[tuple[float, float]] = []
    running = 0
    for index, count in enumerate(buckets):
        running += count - (buckets[index - span] if index >= span else 0)
        series.append(((index + 1) * bucket, running / (min(index + 1, span) * bucket)))
    return series


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of values between consecutive edges (len(edges) == len(counts) + 1)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


def latency_histogram(values: Sequence[float], bins: int = 24) -> Histogram:
    """An even-width histogram from just under the fastest value to the 99th percentile;
    slower values go in the last bin, so one straggler does not squash the rest."""
    if not values or bins < 1:
        return Histogram((), ())
    top = percentile(values, 99) or max(values) or 1.0
    low = min(values) * 0.9 if min(values) < top else 0.0
    width = (top - low) / bins
    counts = [0] * bins
    for value in values:
        slot = int((value - low) / width) if width > 0 else 0
        counts[min(max(slot, 0), bins - 1)] += 1
    return Histogram(tuple(low + i * width for i in range(bins + 1)), tuple(counts))


def link_counts(records: Iterable[Record]) -> dict[Link, int]:
    """Messages per link of the diagram (both directions together), from trace records."""
    counts: dict[Link, int] = {}
    for record in records:
        if isinstance(record, Message) and record.protocol != "email":
            key = link_key(record.src, record.dst)
            counts[key] = counts.get(key, 0) + 1
    return counts


def undirected(counts: dict[Link, int]) -> dict[Link, int]:
    """Directed link counts (requests) folded onto the diagram's undirected links."""
    folded: dict[Link, int] = {}
    for (src, dst), count in counts.items():
        key = link_key(src, dst)
        folded[key] = folded.get(key, 0) + count
    return folded


def heat(counts: dict[Link, int]) -> dict[Link, float]:
    """Each link's share of the busiest link's traffic, 0 to 1 (for line width and colour)."""
    busiest = max(counts.values(), default=0)
    if busiest <= 0:
        return {}
    return {link: count / busiest for link, count in counts.items()}
