"""The topology: where the parties stand, what links them, how they are coloured."""

from __future__ import annotations

import networkx as nx
import pytest

from payviz.diagrams.topology import (
    ERROR_COLOUR,
    OKABE_ITO,
    PARTY_INFO,
    active_in,
    build_topology,
    link_key,
)
from payviz.engine._types import PARTIES


@pytest.fixture
def graph() -> nx.Graph:
    return build_topology()


def test_all_five_parties_are_linked_into_one_picture(graph: nx.Graph) -> None:
    assert set(graph.nodes) == set(PARTIES)
    assert nx.is_connected(graph)


def test_money_travels_outward_from_the_browser_to_the_bank(graph: nx.Graph) -> None:
    pos = {party: graph.nodes[party]["pos"] for party in graph.nodes}
    columns = [pos[p][0] for p in ("merchant", "gateway", "processor", "bank")]
    assert columns == sorted(columns)
    assert len(set(columns)) == 4
    assert pos["bank"][0] == max(column for column, _ in pos.values())
    assert pos["browser"] == (0, 0)
    assert pos["merchant"][0] == pos["browser"][0]
    assert pos["merchant"][1] > pos["browser"][1]
    rows = {pos[p][1] for p in ("merchant", "gateway", "processor", "bank")}
    assert len(rows) == 1


def test_links_cover_both_flows(graph: nx.Graph) -> None:
    edges = {link_key(a, b) for a, b in graph.edges}
    assert edges == {
        ("browser", "merchant"),
        ("merchant", "gateway"),
        ("gateway", "processor"),
        ("processor", "bank"),
        ("browser", "processor"),  # the hosted checkout page, reached by redirect
        ("merchant", "processor"),  # session set-up and notifications in the redirect flow
    }
    redirect_hop = graph.edges["browser", "processor"]
    assert redirect_hop["line"] == "dashed"
    assert redirect_hop["route"] == "over"
    assert graph.edges["merchant", "processor"]["route"] == "under"


def test_every_link_has_a_label_to_read(graph: nx.Graph) -> None:
    assert all(data["label"] for _, _, data in graph.edges(data=True))


def test_parties_have_distinct_okabe_ito_colours_and_none_is_the_error_colour() -> None:
    colours = [PARTY_INFO[party].colour for party in PARTIES]
    assert len(set(colours)) == len(colours)
    assert set(colours) <= set(OKABE_ITO.values())
    assert ERROR_COLOUR not in colours


def test_link_key_is_the_same_both_ways() -> None:
    assert link_key("processor", "gateway") == link_key("gateway", "processor")
    assert link_key("bank", "browser") == ("browser", "bank")


def test_the_gateway_sits_out_the_hosted_checkout() -> None:
    assert not active_in("redirect", party="gateway")
    assert active_in("direct", party="gateway")
    assert not active_in("redirect", link=("gateway", "merchant"))
    assert not active_in("direct", link=("processor", "browser"))
    assert active_in("redirect", link=("processor", "browser"))
    assert active_in("something-new", party="gateway")
