"""Load runs: concurrent checkouts in one session finish, keep their own outcomes, and
leave the world consistent; `payviz load` prints its table."""

from __future__ import annotations

import asyncio
import math

import pytest

from payviz.diagrams.load_stats import hop_latencies, latency_histogram, throughput_series
from payviz.engine.load import LoadPlan, MixError, parse_mix, run_load
from tests.helpers.engine import run_cli

DIRECT_LINKS = {
    ("browser", "merchant"),
    ("merchant", "gateway"),
    ("gateway", "processor"),
    ("processor", "bank"),
    ("processor", "gateway"),
    ("gateway", "merchant"),
}


def test_a_concurrent_load_finishes_every_checkout_with_its_own_outcome() -> None:
    plan = LoadPlan(count=40, concurrency=8, mix=parse_mix("approve=1,decline=1,timeout=1"))
    result = asyncio.run(run_load(plan))
    assert len(result.results) == 40
    assert not result.errors
    assert result.violations == ()
    wanted = dict(zip(range(1, 41), plan.decisions(), strict=True))
    for outcome in result.results:
        decision = wanted[outcome.checkout]
        expected = {
            "approve": ("paid", "00"),
            "decline": ("failed", "05"),
            "timeout": ("failed", "68"),
        }[decision]
        assert (outcome.order_status, outcome.bank_response_code) == expected, outcome
    assert result.approval_rate == sum(d == "approve" for d in wanted.values()) / 40


def test_every_hop_has_percentiles_and_the_charts_have_data() -> None:
    result = asyncio.run(run_load(LoadPlan(count=12, concurrency=4)))
    hops = hop_latencies(result.hops)
    assert {hop.link for hop in hops} == DIRECT_LINKS
    for hop in hops:
        assert hop.count > 0
        assert 0 <= hop.p50 <= hop.p95 <= hop.p99
        assert not math.isnan(hop.p99)
    assert sum(c for _, c in throughput_series(result.finished, 0.05)) > 0
    assert latency_histogram(result.durations).total == 12
    assert result.link_counts[("browser", "merchant")] == 36  # form, post, order page


@pytest.mark.loopback
def test_a_load_over_loopback_https_keeps_bank_deadlines_per_checkout() -> None:
    plan = LoadPlan(count=6, concurrency=3, mix=parse_mix("approve"), transport="loopback")
    result = asyncio.run(run_load(plan))
    assert [r.order_status for r in result.results] == ["paid"] * 6
    assert result.violations == ()


def test_a_mix_names_known_decisions_with_shares() -> None:
    assert parse_mix("approve=3,decline=1") == (("approve", 0.75), ("decline", 0.25))
    for bad in ("", "approve=x", "teleport=1", "approve=0", "approve=-1"):
        with pytest.raises(MixError):
            parse_mix(bad)


def test_payviz_load_prints_its_table() -> None:
    run = run_cli("load", "-n", "8", "--concurrency", "4", "--mix", "approve=1")
    assert run.status == 0, run.stderr
    assert "throughput" in run.stdout
    assert "approval rate   100.0%" in run.stdout
    assert "invariants      all hold" in run.stdout
    assert "processor->bank" in run.stdout
    assert "p99 ms" in run.stdout
    assert "8/8 checkouts 100%" in run.stderr


def test_payviz_load_refuses_a_bad_mix() -> None:
    run = run_cli("load", "-n", "2", "--mix", "approve=oops")
    assert run.status == 2
    assert "--mix" in run.stderr
