"""Shared helpers for window tests: open a main window, run a checkout, read what it shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from payviz.engine.trace import Message
from payviz.ui.main_window import MainWindow


def open_window(qtbot: Any) -> MainWindow:
    """A shown main window with its own engine; animations off so stepping is instant."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.diagram.set_animations_enabled(False)
    window.show()
    qtbot.waitExposed(window)
    return window


def window_fixture(qtbot: Any) -> Iterator[MainWindow]:
    window = open_window(qtbot)
    yield window
    window.close()


def run_checkout(qtbot: Any, window: MainWindow, **choices: Any) -> None:
    """Pick the scenario in the toolbar, click Run checkout, wait for the engine, pause."""
    controls = window.run_controls
    controls.set_mode(choices.get("mode", "direct"))
    if "notify" in choices:
        controls.set_choice(controls.notify_box, choices["notify"])
    controls.set_choice(controls.decision_box, choices.get("decision"))
    button = controls.findChild(QToolButton, "run_button")
    with qtbot.waitSignal(window.bridge.checkout_finished, timeout=20_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window.player.pause()


def log_rows(window: MainWindow) -> list[tuple[str, ...]]:
    """Every row of the log as the user reads it (display text of each column)."""
    model = window.log_model
    return [
        tuple(str(model.index(row, column).data()) for column in range(model.columnCount()))
        for row in range(model.rowCount())
    ]


def what_is_shown(window: MainWindow) -> dict[str, Any]:
    """The diagram's banner, highlights and captions, the inspector's verdicts, the
    playhead's row and arrow, and the merchant's outcome in the status bar."""
    scene = window.diagram.diagram_scene
    return {
        "banner": window.diagram.banner_text(),
        "links": sorted(key for key, link in scene.links.items() if link.highlighted),
        "nodes": sorted(party for party, node in scene.nodes.items() if node.highlighted),
        "encryption": window.inspector.text_of("Encryption"),
        "signature": window.inspector.text_of("Signature"),
        "arrow": window.sequence.current,
        "row": window.log_model.current_row,
        "captions": {party: node.state.lines for party, node in scene.nodes.items()},
        "outcome": window.outcome_label.text(),
    }


def every_step(window: MainWindow) -> list[dict[str, Any]]:
    """What is shown at each position of the player, from the first to the last."""
    shown = []
    for position in range(window.player.length):
        window.player.go_to(position)
        shown.append(what_is_shown(window))
    return shown


def many_messages(messages: list[Message], count: int) -> list[Message]:
    """`count` messages: a real run's, repeated and renumbered (a long trace, quickly)."""
    repeats = -(-count // len(messages))
    return [
        dataclasses.replace(message, seq=seq)
        for seq, message in enumerate((messages * repeats)[:count], start=1)
    ]
