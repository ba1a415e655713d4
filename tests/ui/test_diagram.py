"""The animated diagram, as a classroom sees it: tokens, highlights, captions, banner."""

from __future__ import annotations

import math
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from payviz.diagrams.topology import ERROR_COLOUR
from payviz.engine.trace import Message, StateChange
from payviz.ui.diagram import DiagramView, LegendWidget, legend_items
from payviz.ui.diagram.items import PAD
from payviz.ui.diagram.painting import NAME_PT, SUBTITLE_PT, TEXT_PT, TITLE_PT, contrast, font
from payviz.ui.diagram.text import fit_lines, wrap, wrap_label

Record = Message | StateChange


class TraceBuilder:
    """Builds a trace of real records with consecutive seqs, as the engine writes them."""

    def __init__(self, mode: str = "direct") -> None:
        self.mode = mode
        self.records: list[Record] = []
        self._exchange = 0

    def _seq(self) -> int:
        return len(self.records) + 1

    def send(
        self,
        src: str,
        dst: str,
        step: int,
        summary: str,
        kind: str = "request",
        direction: str = "request",
        **extra: Any,
    ) -> Message:
        if direction == "request":
            self._exchange += 1
            if "method" not in extra and " " in summary and extra.get("protocol") != "iso8583":
                extra["method"] = summary.split(" ", 1)[0]
        message = Message(
            seq=self._seq(),
            ts=self._seq() * 0.004,
            checkout=1,
            mode=self.mode,
            src=src,  # type: ignore[arg-type]
            dst=dst,  # type: ignore[arg-type]
            step=step,
            title=f"step {step}",
            direction=direction,  # type: ignore[arg-type]
            protocol=extra.pop("protocol", "http"),
            exchange=self._exchange,
            summary=summary,
            kind=kind,
            **extra,
        )
        self.records.append(message)
        return message

    def state(self, party: str, key: str, value: Any) -> StateChange:
        change = StateChange(self._seq(), self._seq() * 0.004, 1, party, key, value)  # type: ignore[arg-type]
        self.records.append(change)
        return change


def order(status: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "ord_41",
        "status": status,
        "amount_minor": 4999,
        "currency": "USD",
        "reason": reason,
    }


def account(balance: int, held: int) -> dict[str, Any]:
    return {
        "card": "424242******4242",
        "balance_minor": balance,
        "held_minor": held,
        "currency": "USD",
    }


def direct_trace(decline: bool = False) -> TraceBuilder:
    """A direct checkout, approved (or declined by the bank), message by message."""
    t = TraceBuilder("direct")
    t.state("bank", "account", account(100_000, 0))
    t.send("browser", "merchant", 1, "POST /checkout")
    t.state("merchant", "order", order("pending"))
    t.send("merchant", "gateway", 1, "POST /v1/payments")
    t.send("gateway", "processor", 2, "POST /v1/authorizations (JWE)", "encrypted", encrypted=True)
    t.state("gateway", "last_action", "sealed the card in a JWE")
    t.state("processor", "last_action", "opened the JWE, fraud check passed")
    iso: dict[str, Any] = {"protocol": "iso8583"}
    t.send(
        "processor", "bank", 3, "0100 authorization request 49.99 USD", "iso8583", mti="0100", **iso
    )
    if decline:
        t.send(
            "bank",
            "processor",
            4,
            "0110 authorization response 39=51 insufficient funds",
            "decline",
            "response",
            mti="0110",
            status=200,
            **iso,
        )
        t.state("processor", "last_action", "declined by the bank (51)")
        t.send(
            "gateway",
            "processor",
            5,
            "402 Payment Required (declined)",
            "error",
            "response",
            status=402,
        )
        t.send(
            "merchant",
            "gateway",
            6,
            "402 Payment Required (declined)",
            "error",
            "response",
            status=402,
        )
        t.state("merchant", "order", order("failed", "insufficient funds"))
        t.send("browser", "merchant", 7, "200 OK (failed)", "response", "response", status=200)
        return t
    t.state("bank", "account", account(100_000, 4999))
    t.send(
        "bank",
        "processor",
        4,
        "0110 authorization response 39=00 approved",
        "iso8583",
        "response",
        mti="0110",
        status=200,
        **iso,
    )
    t.send("processor", "bank", 5, "0220 capture 49.99 USD", "iso8583", mti="0220", **iso)
    t.state("bank", "account", account(95_001, 0))
    t.send(
        "bank",
        "processor",
        5,
        "0230 capture response 39=00 approved",
        "iso8583",
        "response",
        mti="0230",
        status=200,
        **iso,
    )
    t.state("processor", "last_action", "captured 49.99 USD")
    t.send("processor", "gateway", 5, "POST /v1/notifications (payment.succeeded)", "notification")
    t.send("gateway", "processor", 5, "204 No Content", "response", "response", status=204)
    t.state("gateway", "last_action", "verified the processor's signature")
    t.send("gateway", "merchant", 6, "POST /webhooks/payments (payment.succeeded)", "notification")
    t.state("merchant", "order", order("paid"))
    t.send("merchant", "gateway", 6, "204 No Content", "response", "response", status=204)
    t.send("merchant", "browser", 7, "email: Your order ord_41", "email", protocol="email")
    return t


def redirect_trace() -> TraceBuilder:
    """A hosted checkout: the browser is redirected to the processor and back."""
    t = TraceBuilder("redirect")
    t.state("bank", "account", account(100_000, 0))
    t.send("browser", "merchant", 1, "POST /checkout")
    t.state("merchant", "order", order("pending"))
    t.send("merchant", "processor", 1, "POST /v1/checkout/sessions")
    t.send("processor", "merchant", 1, "201 Created", "response", "response", status=201)
    t.send(
        "merchant", "browser", 1, "303 See Other -> /pay/cs_9", "redirect", "response", status=303
    )
    t.send("browser", "processor", 2, "GET /pay/cs_9")
    t.send("processor", "browser", 2, "200 OK", "response", "response", status=200)
    t.send("browser", "processor", 3, "POST /pay/cs_9")
    t.send("processor", "merchant", 4, "POST /webhooks (payment.succeeded)", "notification")
    return t


def at(records: list[Record], src: str, dst: str, start: int = 0) -> Message:
    """The first message from src to dst (after seq `start`)."""
    return next(
        r
        for r in records
        if isinstance(r, Message) and r.src == src and r.dst == dst and r.seq > start
    )


@pytest.fixture
def view(qtbot: QtBot) -> DiagramView:
    widget = DiagramView()
    qtbot.addWidget(widget)
    widget.resize(1280, 640)
    widget.set_animations_enabled(False)
    return widget


def distance(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())


def test_an_encrypted_hop_lights_its_link_and_its_token_carries_a_lock(
    view: DiagramView,
) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    jwe = at(trace.records, "gateway", "processor")
    view.show_seq(jwe.seq)
    scene = view.diagram_scene
    lit = {key for key, link in scene.links.items() if link.highlighted}
    assert lit == {("gateway", "processor")}
    assert {party for party, node in scene.nodes.items() if node.highlighted} == {
        "gateway",
        "processor",
    }
    assert scene.token.isVisible()
    assert scene.token.style is not None
    assert scene.token.style.glyph == "lock"
    token = scene.token.pos()
    assert distance(token, scene.nodes["processor"].pos()) < distance(
        token, scene.nodes["gateway"].pos()
    )


def test_the_token_travels_then_reports_its_arrival(qtbot: QtBot, view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    view.set_animations_enabled(True)
    request = at(trace.records, "merchant", "gateway")
    token = view.diagram_scene.token
    with qtbot.waitSignal(view.token_arrived, timeout=3000) as arrival:
        view.show_seq(request.seq, duration_ms=200)
        start = token.pos()
        assert token.running
    assert arrival.args == [request.seq]
    assert not token.running
    gateway = view.diagram_scene.nodes["gateway"].pos()
    assert distance(token.pos(), gateway) < distance(start, gateway)


def test_with_animations_off_the_token_arrives_at_once(qtbot: QtBot, view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    with qtbot.waitSignal(view.token_arrived, timeout=100) as arrival:
        view.show_seq(5)
    assert arrival.args == [5]
    assert not view.diagram_scene.token.running


def test_a_new_step_interrupts_the_token_in_flight(qtbot: QtBot, view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    view.set_animations_enabled(True)
    arrived: list[int] = []
    view.token_arrived.connect(arrived.append)
    view.show_seq(2, duration_ms=5000)
    with qtbot.waitSignal(view.token_arrived, timeout=3000):
        view.show_seq(4, duration_ms=50)
    assert arrived == [4]


def test_a_declined_authorization_travels_in_the_error_colour(view: DiagramView) -> None:
    trace = direct_trace(decline=True)
    view.set_records(trace.records)
    decline = at(trace.records, "bank", "processor")
    view.show_seq(decline.seq)
    style = view.diagram_scene.token.style
    assert style is not None
    assert (style.colour, style.glyph) == (ERROR_COLOUR, "cross")
    assert view.diagram_scene.links[("processor", "bank")].style == style
    assert "Step 4 · Bank authorizes" in view.banner_text()


def test_the_merchant_caption_shows_a_failed_order(view: DiagramView) -> None:
    trace = direct_trace(decline=True)
    view.set_records(trace.records)
    view.show_seq(trace.records[-1].seq)
    merchant = view.diagram_scene.nodes["merchant"]
    assert "failed" in merchant.caption_text()
    assert "insufficient funds" in merchant.caption_text()


def test_captions_follow_the_playhead_both_ways(view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    nodes = view.diagram_scene.nodes
    view.show_seq(trace.records[-1].seq)
    assert "paid" in nodes["merchant"].caption_text()
    assert "balance 950.01 USD" in nodes["bank"].caption_text()
    view.show_seq(at(trace.records, "processor", "bank").seq)
    assert "pending" in nodes["merchant"].caption_text()
    assert "balance 1,000.00 USD" in nodes["bank"].caption_text()
    assert "no holds" in nodes["bank"].caption_text()


def test_the_banner_names_the_step_of_the_right_flow(view: DiagramView) -> None:
    direct, hosted = direct_trace(), redirect_trace()
    view.set_records(direct.records)
    view.show_seq(at(direct.records, "gateway", "processor").seq)
    assert view.banner_text().startswith("Step 2 · Gateway encrypts and forwards")
    view.set_records(hosted.records)
    view.show_seq(at(hosted.records, "browser", "processor").seq)
    assert view.banner_text().startswith("Step 2 · User redirect")
    assert "Browser → Processor" in view.banner_text()


def test_a_hosted_checkout_dims_the_gateway_and_dashes_the_redirect(
    view: DiagramView,
) -> None:
    hosted = redirect_trace()
    view.set_records(hosted.records)
    redirect = next(r for r in hosted.records if isinstance(r, Message) and r.kind == "redirect")
    view.show_seq(redirect.seq)
    scene = view.diagram_scene
    assert scene.nodes["gateway"].opacity() < 0.5
    assert scene.nodes["processor"].opacity() == 1.0
    assert scene.token.style is not None
    assert scene.token.style.line == "dashed"
    view.set_records(direct_trace().records)
    view.show_seq(2)
    assert scene.nodes["gateway"].opacity() == 1.0


def test_a_state_change_shows_the_message_before_it_already_arrived(
    qtbot: QtBot, view: DiagramView
) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    view.set_animations_enabled(True)
    pending = next(r for r in trace.records if isinstance(r, StateChange) and r.party == "merchant")
    with qtbot.waitSignal(view.token_arrived, timeout=100) as arrival:
        view.show_seq(pending.seq)
    assert arrival.args == [pending.seq]
    assert view.diagram_scene.token.seq == pending.seq - 1
    assert "pending" in view.diagram_scene.nodes["merchant"].caption_text()


def test_the_view_follows_a_growing_trace(view: DiagramView) -> None:
    trace = TraceBuilder("direct")
    view.set_records(trace.records)
    view.show_seq(1)
    assert view.banner_text().startswith("Ready")
    trace.state("bank", "account", account(100_000, 0))
    view.show_seq(1)
    assert view.banner_text().startswith("Ready")
    assert "1,000.00 USD" in view.diagram_scene.nodes["bank"].caption_text()
    trace.send("browser", "merchant", 1, "POST /checkout")
    trace.state("merchant", "order", order("pending"))
    view.show_seq(3)
    assert view.banner_text().startswith("Step 1 · User checkout")
    assert "pending" in view.diagram_scene.nodes["merchant"].caption_text()


def test_clear_returns_to_an_empty_stage(view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    view.show_seq(5)
    view.clear()
    scene = view.diagram_scene
    assert not scene.token.isVisible()
    assert not any(link.highlighted for link in scene.links.values())
    assert not any(node.highlighted for node in scene.nodes.values())
    assert scene.nodes["merchant"].caption_text() == "no order yet"


def test_zoom_in_out_and_back_to_fit(qtbot: QtBot, view: DiagramView) -> None:
    view.show()
    qtbot.waitExposed(view)
    fitted = view.zoom()
    view.zoom_in()
    assert view.zoom() > fitted
    assert not view.auto_fit
    view.zoom_out()
    view.zoom_out()
    assert view.zoom() < fitted
    view.reset_zoom()
    assert view.zoom() == pytest.approx(fitted)
    view.resize(640, 320)
    qtbot.waitUntil(lambda: view.zoom() < fitted)


def test_ctrl_wheel_zooms_and_plain_wheel_does_not(qtbot: QtBot, view: DiagramView) -> None:
    view.show()
    qtbot.waitExposed(view)

    def wheel(modifiers: Qt.KeyboardModifier) -> None:
        centre = QPointF(view.viewport().rect().center())
        event = QWheelEvent(
            centre,
            view.viewport().mapToGlobal(centre),
            QPoint(),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            modifiers,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.viewport(), event)

    before = view.zoom()
    wheel(Qt.KeyboardModifier.NoModifier)
    assert view.zoom() == pytest.approx(before)
    wheel(Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(before * 1.25)


def gap(a: QRectF, b: QRectF) -> float:
    """The distance between two rectangles' nearest edges (0 if they touch or overlap)."""
    dx = max(b.left() - a.right(), a.left() - b.right(), 0.0)
    dy = max(b.top() - a.bottom(), a.top() - b.bottom(), 0.0)
    return math.hypot(dx, dy)


def shown_whole(view: DiagramView) -> bool:
    """Whether the whole diagram is inside the viewport (nothing clipped)."""
    shown = view.mapFromScene(view.diagram_scene.sceneRect()).boundingRect()
    return view.viewport().rect().adjusted(-1, -1, 1, 1).contains(shown)


def test_at_the_default_fit_every_text_reads_at_11_pt_or_more(
    qtbot: QtBot, view: DiagramView
) -> None:
    # The main window's default share for the diagram is about this size or larger.
    view.resize(850, 360)
    view.show()
    qtbot.waitExposed(view)
    trace = direct_trace()
    view.set_records(trace.records)
    view.show_seq(at(trace.records, "gateway", "processor").seq)
    caption = view.diagram_scene.nodes["gateway"].caption_font()
    assert view.zoom() * caption.pointSizeF() >= 11
    assert view.zoom() * min(TEXT_PT, NAME_PT, SUBTITLE_PT, TITLE_PT) >= 11
    assert shown_whole(view)


def test_the_browser_stands_above_the_merchant_and_the_bank_at_the_far_right(
    view: DiagramView,
) -> None:
    scene = view.diagram_scene
    cards = {party: node.card_rect().translated(node.pos()) for party, node in scene.nodes.items()}
    assert cards["browser"].bottom() < cards["merchant"].top()
    assert cards["browser"].center().x() == pytest.approx(cards["merchant"].center().x())
    row = [cards[party] for party in ("merchant", "gateway", "processor", "bank")]
    assert [card.left() for card in row] == sorted(card.left() for card in row)
    assert cards["bank"].right() == max(card.right() for card in cards.values())
    # The banner takes the room right of the browser, clear of every card.
    banner = scene.banner.sceneBoundingRect()
    assert banner.left() > cards["browser"].right()
    assert not any(banner.intersects(card) for card in cards.values())


def test_a_smaller_view_shrinks_the_diagram_and_still_shows_all_of_it(
    qtbot: QtBot, view: DiagramView
) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.resize(560, 300)
    qtbot.waitUntil(lambda: view.zoom() < 1)
    assert shown_whole(view)
    view.resize(1400, 700)
    qtbot.waitUntil(lambda: view.zoom() > 1.5)
    assert shown_whole(view)


def test_captions_stay_inside_their_cards_through_a_real_checkout(
    view: DiagramView, direct_run: Any
) -> None:
    view.set_records(direct_run.records)
    nodes = view.diagram_scene.nodes
    for record in direct_run.records:
        view.show_seq(record.seq)
        for node in nodes.values():
            lines = node.caption_layout()
            assert 1 <= len(lines) <= node.caption_lines
            room = node.size.width() - 2 * PAD
            for line in lines:
                width = line.indent + QFontMetricsF(line.font).horizontalAdvance(line.text)
                assert width <= room, (node.party, line.text)
    jwe = next(m for m in direct_run.messages if m.encrypted)
    view.show_seq(jwe.seq + 1)
    # The card the gateway sealed is named by its last four, on the card, whole.
    assert any("•••• 4242" in line for line in nodes["gateway"].caption_lines_shown())


def test_card_text_wraps_where_a_reader_expects(qapp: QApplication) -> None:
    metrics = QFontMetricsF(font(TEXT_PT))
    width = metrics.horizontalAdvance("captured 19.99 USD")
    # An amount keeps its currency, a card its last four.
    assert wrap("captured 19.99 USD from •••• 4242", metrics, width - 1) == [
        "captured",
        "19.99 USD from",
        "•••• 4242",
    ]
    # A dotted event name breaks after its dot rather than losing its end.
    narrow = metrics.horizontalAdvance("succeeded to")
    assert wrap("payment.succeeded to the merchant", metrics, narrow)[:2] == [
        "payment.",
        "succeeded to",
    ]
    # An id too long for any line is cut at its end, after the word that names it.
    lines = fit_lines(["order ord_6860a0ae97fb"], metrics, width / 1.3, 2)
    assert len(lines) == 1
    assert lines[0].startswith("order ord_")
    assert lines[0].endswith("…")
    # Too many lines: the last one kept shows that more was cut.
    assert fit_lines(["one two three four"], metrics, narrow / 2, 2)[-1].endswith("…")
    assert wrap_label("HTTPS · API key", metrics, metrics.horizontalAdvance("API key")) == [
        "HTTPS",
        "API key",
    ]


def test_link_labels_and_resting_tokens_never_cover_a_card(
    view: DiagramView, direct_run: Any
) -> None:
    scene = view.diagram_scene
    cards = [node.card_rect().translated(node.pos()) for node in scene.nodes.values()]
    for link in scene.links.values():
        label = link.label_rect()
        assert QFontMetricsF(font(TEXT_PT)).height() <= label.height()
        assert not any(label.intersects(card) for card in cards), link.key
    view.set_records(direct_run.records)
    for message in direct_run.messages:
        view.show_seq(message.seq)
        token = scene.token.sceneBoundingRect().adjusted(2, 2, -2, -2)
        receiver, sender = (scene.nodes[party] for party in (message.dst, message.src))
        card = receiver.card_rect().translated(receiver.pos())
        assert not token.intersects(card), message.seq
        # It rests against the receiver's card, nearer to it than to the sender's.
        assert gap(token, card) < min(4, gap(token, sender.card_rect().translated(sender.pos())))


def test_an_export_shows_the_active_link_in_the_token_colour(view: DiagramView) -> None:
    trace = direct_trace()
    view.set_records(trace.records)
    view.show_seq(at(trace.records, "gateway", "processor").seq)
    image = view.render_to_image(2.0)
    scene_rect = view.diagram_scene.sceneRect()
    assert image.width() == round(scene_rect.width() * 2)
    link = view.diagram_scene.links[("gateway", "processor")]
    point = (link.path.pointAtPercent(0.2) - scene_rect.topLeft()) * 2
    pixel = image.pixelColor(round(point.x()), round(point.y()))
    expected = QColor(view.diagram_scene.token.style.colour)  # type: ignore[union-attr]
    assert (
        max(
            abs(pixel.red() - expected.red()),
            abs(pixel.green() - expected.green()),
            abs(pixel.blue() - expected.blue()),
        )
        < 40
    )


@pytest.mark.parametrize("dark", [False, True])
def test_text_stays_legible_in_light_and_dark_palettes(view: DiagramView, dark: bool) -> None:
    palette = QPalette(view.palette())
    window, text = ("#1e1f22", "#e6e6e6") if dark else ("#f4f4f4", "#1a1a1a")
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
    palette.setColor(QPalette.ColorRole.Base, QColor("#2b2d30" if dark else "#ffffff"))
    view.setPalette(palette)
    theme = view.diagram_scene.theme
    assert theme.dark is dark
    assert view.diagram_scene.backgroundBrush().color() == QColor(window)
    assert contrast(theme.text, theme.card) >= 7
    assert contrast(theme.muted, theme.card) >= 3
    assert contrast(theme.ink(QColor("#0072B2")), theme.background) >= 2.5


def test_the_legend_lists_every_token_look(qtbot: QtBot) -> None:
    legend = LegendWidget()
    qtbot.addWidget(legend)
    labels = [label for _, label in legend_items()]
    assert "Encrypted (JWE)" in labels
    assert "Notification (async)" in labels
    assert "Error or decline" in labels
    assert legend.sizeHint().height() >= 40 * len(labels)
    image = legend.grab().toImage()
    assert not image.isNull()


def test_a_real_checkout_plays_from_start_to_finish(
    qtbot: QtBot, view: DiagramView, direct_run: Any
) -> None:
    records = direct_run.records
    view.set_records(records)
    arrived: list[int] = []
    view.token_arrived.connect(arrived.append)
    for message in direct_run.messages:
        view.show_seq(message.seq)
        assert view.diagram_scene.token.seq == message.seq
        assert view.banner_text().startswith(f"Step {message.step} · ")
    assert arrived == [m.seq for m in direct_run.messages]
    assert "paid" in view.diagram_scene.nodes["merchant"].caption_text()
