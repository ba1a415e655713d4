"""The component topology: the five parties, where they stand and how they are linked.

Pure data (no Qt): the diagram scene, the sequence view and the exports all read it, so a
party's place, name and colour are written once. Places are on a small grid (columns and
rows, not pixels); the browser stands top-left and the bank at the far right, so money
visibly travels outward and the answer travels back.

Colours are the Okabe-Ito palette, which stays distinguishable under the common forms of
colour blindness. Colour never carries meaning alone: every party also has a name and an
icon, every token a glyph and a line style (see `node_state.token_style`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from payviz.engine._types import MODES, PARTIES, Mode, Party

if TYPE_CHECKING:
    import networkx as nx

OKABE_ITO: Final[dict[str, str]] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# The one colour for anything that went wrong: errors, declines, timeouts, failed orders.
ERROR_COLOUR: Final[str] = OKABE_ITO["vermillion"]

# How a link is drawn between its two cards: a straight line, or an arc over or under the
# main row so that it never runs through a third party's card.
Route = Literal["straight", "over", "under"]
Line = Literal["solid", "dashed", "dotted"]


# Named tuples, not dataclasses: the window reads them before its first paint, and a
# NamedTuple class takes a tenth of the time a frozen dataclass takes to make.
class PartyInfo(NamedTuple):
    """One party as drawn: name, one-line role, colour, icon name and grid place.

    Attributes:
        modes: the flows in which the party takes part (others are drawn dimmed).
    """

    party: Party
    label: str
    role: str
    colour: str
    icon: str
    column: float
    row: float
    modes: tuple[Mode, ...] = MODES


class LinkInfo(NamedTuple):
    """One link: the pair of parties (in `PARTIES` order), a protocol label and a route.

    Attributes:
        line: how the link itself is stroked; "dashed" marks the hops a browser makes
            because it was redirected.
    """

    key: tuple[Party, Party]
    label: str
    route: Route = "straight"
    modes: tuple[Mode, ...] = MODES
    line: Line = "solid"


PARTY_INFO: Final[dict[Party, PartyInfo]] = {
    info.party: info
    for info in (
        PartyInfo("browser", "Browser", "the customer", OKABE_ITO["sky_blue"], "browser", 0, 0),
        PartyInfo("merchant", "Merchant", "the online shop", OKABE_ITO["orange"], "merchant", 0, 1),
        PartyInfo(
            "gateway",
            "Gateway",
            "payment API",
            OKABE_ITO["bluish_green"],
            "gateway",
            1,
            1,
            ("direct",),
        ),
        PartyInfo(
            "processor", "Processor", "card processing", OKABE_ITO["blue"], "processor", 2, 1
        ),
        PartyInfo("bank", "Bank", "the card issuer", OKABE_ITO["reddish_purple"], "bank", 3, 1),
    )
}


def link_key(a: Party, b: Party) -> tuple[Party, Party]:
    """The key of the link between two parties, whichever way a message travels."""
    first, second = sorted((a, b), key=PARTIES.index)
    return (first, second)


LINK_INFO: Final[dict[tuple[Party, Party], LinkInfo]] = {
    info.key: info
    for info in (
        LinkInfo(link_key("browser", "merchant"), "HTTPS"),
        LinkInfo(link_key("merchant", "gateway"), "HTTPS · API key", modes=("direct",)),
        LinkInfo(link_key("gateway", "processor"), "HTTPS · JWE", modes=("direct",)),
        LinkInfo(link_key("processor", "bank"), "ISO 8583"),
        # The hosted checkout: the browser follows a redirect to the processor's own page.
        LinkInfo(link_key("browser", "processor"), "redirect", "over", ("redirect",), "dashed"),
        # Server to server in the hosted checkout: session set-up and signed notifications.
        LinkInfo(link_key("merchant", "processor"), "webhooks · API", "under", ("redirect",)),
    )
}


def build_topology() -> nx.Graph:
    """A fresh graph of the parties and their links.

    Nodes are parties with the attributes of `PartyInfo` plus `info` (the record itself)
    and `pos` (column, row); edges carry `info` (a `LinkInfo`), `label` and `route`.
    The graph is built from `PARTY_INFO` and `LINK_INFO`, which is what the diagram reads:
    networkx (a few hundred modules) loads only when a graph is asked for.
    """
    import networkx as nx

    graph = nx.Graph(name="payviz topology")
    for party in PARTIES:
        info = PARTY_INFO[party]
        graph.add_node(
            party,
            info=info,
            label=info.label,
            role=info.role,
            colour=info.colour,
            icon=info.icon,
            pos=(info.column, info.row),
            modes=info.modes,
        )
    for key, link in LINK_INFO.items():
        graph.add_edge(
            *key, info=link, label=link.label, route=link.route, modes=link.modes, line=link.line
        )
    return graph


def party_colour(party: Party) -> str:
    """The party's Okabe-Ito colour as '#RRGGBB'."""
    return PARTY_INFO[party].colour


def active_in(
    mode: str, party: Party | None = None, link: tuple[Party, Party] | None = None
) -> bool:
    """Whether a party or a link takes part in a flow ('direct' or 'redirect').

    Unknown modes count as active: better to draw everything at full strength than to
    dim the wrong thing.
    """
    if mode not in MODES:
        return True
    if party is not None and mode not in PARTY_INFO[party].modes:
        return False
    if link is not None:
        info = LINK_INFO.get(link_key(*link))
        if info is not None and mode not in info.modes:
            return False
    return True


__all__ = [
    "ERROR_COLOUR",
    "LINK_INFO",
    "OKABE_ITO",
    "PARTY_INFO",
    "Line",
    "LinkInfo",
    "PartyInfo",
    "Route",
    "active_in",
    "build_topology",
    "link_key",
    "party_colour",
]
