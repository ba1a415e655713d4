"""Toolbar widgets: what checkout to run, and the playback controls of the playhead.

The run controls only collect the scenario's fields; the engine's Scenario validates them
(the bridge reports anything wrong). The playback controls drive the Player through shared
QActions, so buttons, menus and keyboard shortcuts are one and the same.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
)

from payviz.engine._types import DECISIONS, DEFAULT_NOTIFY, MODES, NOTIFY_BY_MODE, Mode
from payviz.engine.cards import TEST_CARDS, normalize_pan
from payviz.engine.money import CURRENCIES, to_minor

from .player import SPEEDS, Player

NOTIFY_LABELS = {
    "sync": "sync response",
    "async": "async webhook",
    "return": "return page",
    "webhook": "webhook",
    "both": "return + webhook",
}
AUTO_DECISION = "Automatic (the card decides)"
AUTO_CARD = "Automatic (fits the bank decision)"


# Media glyphs on a 24-unit grid: triangles ("<" / ">") and bars ("|"), left to right.
_GLYPHS: dict[str, str] = {
    "first": "|<",
    "back": "<<",
    "play": ">",
    "pause": "||",
    "forward": ">>",
    "last": ">|",
}


def media_icon(name: str, colour: QColor) -> QIcon:
    """A playback glyph drawn in the palette's text colour, so it reads on dark and light."""
    pixmap = QPixmap(48, 48)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(2, 2)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    shapes = _GLYPHS[name]
    widths = [3.0 if shape == "|" else (14.0 if name == "play" else 8.0) for shape in shapes]
    x = (24 - sum(widths) - 2 * (len(shapes) - 1)) / 2
    for shape, width in zip(shapes, widths, strict=True):
        if shape == "|":
            painter.drawRect(QRectF(x, 5, width, 14))
        else:
            tip, base = (x, x + width) if shape == "<" else (x + width, x)
            painter.drawPolygon(QPolygonF([QPointF(base, 5), QPointF(tip, 12), QPointF(base, 19)]))
        x += width + 2
    painter.end()
    return QIcon(pixmap)


class PlaybackActions:
    """The playhead's actions, shared by the toolbar buttons, the Run menu and the keys."""

    # Weak references: its bound methods are Qt slots.
    __slots__ = ("__weakref__", "back", "colour", "first", "forward", "last", "play")

    def __init__(
        self,
        first: QAction,
        back: QAction,
        play: QAction,
        forward: QAction,
        last: QAction,
        colour: QColor,
    ) -> None:
        self.first, self.back, self.play = first, back, play
        self.forward, self.last, self.colour = forward, last, colour

    @classmethod
    def create(cls, parent: QWidget) -> PlaybackActions:
        colour = parent.palette().color(QPalette.ColorRole.ButtonText)

        def action(text: str, glyph: str, key: str) -> QAction:
            made = QAction(media_icon(glyph, colour), text, parent)
            made.setShortcut(QKeySequence(key))
            made.setToolTip(f"{text} ({key})")
            return made

        return cls(
            first=action("Restart", "first", "Home"),
            back=action("Step back", "back", "Left"),
            play=action("Play", "play", "Space"),
            forward=action("Step", "forward", "Right"),
            last=action("Go to end", "last", "End"),
            colour=colour,
        )

    def set_playing(self, playing: bool) -> None:
        self.play.setIcon(media_icon("pause" if playing else "play", self.colour))
        self.play.setText("Pause" if playing else "Play")
        self.play.setToolTip(f"{self.play.text()} (Space)")


def _tool_button(action: QAction, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setAutoRaise(True)
    return button


def _title(text: str) -> str:
    return text.replace("-", " ").capitalize()


def _gap(width: int) -> QWidget:
    spacer = QWidget()
    spacer.setFixedWidth(width)
    return spacer


class RunControls(QToolBar):
    """Run checkout, mode, notification style, bank decision, test card and amount.

    Signals:
        mode_changed(str): the flow picked ("direct" or "redirect").

    Attributes:
        mode_group: the Direct / Redirect toggle; notify_box, decision_box, card_box,
            amount_box, currency_box: the scenario's other fields.
        faults: fault specs for the next checkouts (set from the faults panel).
    """

    mode_changed = Signal(str)

    def __init__(self, run_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__("Checkout", parent)
        self.setObjectName("run_toolbar")
        self.setMovable(False)
        run = _tool_button(run_action, self)
        run.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        run.setAutoRaise(False)
        run.setObjectName("run_button")
        font = run.font()
        font.setBold(True)
        run.setFont(font)
        self.addWidget(run)
        self.addWidget(_gap(12))
        self.addWidget(QLabel("Mode: "))
        self.mode_group = QButtonGroup(self)
        for mode in MODES:
            button = QToolButton(self)
            button.setText(_title(mode))
            button.setCheckable(True)
            button.setObjectName(f"mode_{mode}")
            self.mode_group.addButton(button)
            self.addWidget(button)
        self.mode_group.buttons()[0].setChecked(True)
        self.mode_group.buttonToggled.connect(self._on_mode_toggled)

        self.notify_box = self._combo("Notify:")
        self.decision_box = self._combo("Bank:")
        self.decision_box.addItem(AUTO_DECISION, None)
        for decision in DECISIONS:
            self.decision_box.addItem(_title(decision), decision)
        self.card_box = self._combo("Card:")
        self.card_box.setEditable(True)
        self.card_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.card_box.setMinimumContentsLength(20)
        self.card_box.addItem(AUTO_CARD, None)
        for card in TEST_CARDS:
            self.card_box.addItem(f"{card.number}  {card.label}", card.number)

        self.addWidget(_gap(8))
        self.addWidget(QLabel("Amount: "))
        self.amount_box = QDoubleSpinBox(self)
        self.amount_box.setRange(0.01, 999_999.99)
        self.amount_box.setValue(19.99)
        self.addWidget(self.amount_box)
        self.currency_box = QComboBox(self)
        self.currency_box.addItems(list(CURRENCIES))
        self.currency_box.currentTextChanged.connect(self._on_currency_changed)
        self.addWidget(self.currency_box)
        self.faults: tuple[str, ...] = ()
        self._fill_notify("direct")

    def set_faults(self, specs: tuple[str, ...]) -> None:
        self.faults = tuple(specs)

    def _combo(self, caption: str) -> QComboBox:
        self.addWidget(_gap(8))
        self.addWidget(QLabel(caption))
        box = QComboBox(self)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.addWidget(box)
        return box

    @property
    def mode(self) -> Mode:
        checked = self.mode_group.checkedButton()
        return "redirect" if checked is self.mode_group.buttons()[1] else "direct"

    def set_mode(self, mode: str) -> None:
        self.mode_group.buttons()[
            MODES.index("redirect" if mode == "redirect" else "direct")
        ].setChecked(True)

    def set_choice(self, box: QComboBox, value: object) -> None:
        """Select the entry of `box` whose data is `value` (used by --snapshot and tests)."""
        index = box.findData(value)
        if index >= 0:
            box.setCurrentIndex(index)

    def _on_mode_toggled(self, _button: QToolButton, checked: bool) -> None:
        if checked:
            self._fill_notify(self.mode)
            self.mode_changed.emit(self.mode)

    def _fill_notify(self, mode: Mode) -> None:
        self.notify_box.clear()
        for notify in NOTIFY_BY_MODE[mode]:
            self.notify_box.addItem(NOTIFY_LABELS[notify], notify)
        self.set_choice(self.notify_box, DEFAULT_NOTIFY[mode])

    def _on_currency_changed(self, code: str) -> None:
        self.amount_box.setDecimals(CURRENCIES[code].exponent)

    def card_number(self) -> str | None:
        text = self.card_box.currentText().strip()
        index = self.card_box.currentIndex()
        if index >= 0 and text == self.card_box.itemText(index):
            data = self.card_box.itemData(index)
            return None if data is None else str(data)
        return normalize_pan(text.split("  ")[0]) or None

    def scenario_fields(self) -> dict[str, Any]:
        """The chosen scenario as Scenario's fields (validated by the engine, not here)."""
        code = self.currency_box.currentText()
        amount = f"{self.amount_box.value():.{CURRENCIES[code].exponent}f}"
        return {
            "mode": self.mode,
            "notify": self.notify_box.currentData(),
            "decision": self.decision_box.currentData(),
            "card": self.card_number(),
            "amount_minor": to_minor(amount, code),
            "currency": code,
            "faults": self.faults,
        }


class PlaybackControls(QToolBar):
    """|< < > > >| buttons, the speed slider, the scrubber and the "step 3 of 7" caption.

    Signals:
        speed_selected(float): the speed picked on the slider.
        scrubbed(int): the message index the user dragged the scrubber to.
    """

    speed_selected = Signal(float)
    scrubbed = Signal(int)

    def __init__(self, actions: PlaybackActions, parent: QWidget | None = None) -> None:
        super().__init__("Playback", parent)
        self.setObjectName("playback_toolbar")
        self.setMovable(False)
        self.setIconSize(QSize(28, 28))
        for action in (actions.first, actions.back, actions.play, actions.forward, actions.last):
            self.addAction(action)
        self.addWidget(_gap(12))
        self.addWidget(QLabel("Speed: "))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setFixedWidth(110)
        self.speed_slider.setValue(SPEEDS.index(1.0))
        self.speed_slider.valueChanged.connect(self._on_speed_slider_changed)
        self.addWidget(self.speed_slider)
        self.speed_label = QLabel("1x")
        self.speed_label.setMinimumWidth(self.speed_label.fontMetrics().horizontalAdvance("0.25x "))
        self.addWidget(self.speed_label)
        self.addWidget(_gap(12))
        self.scrubber = QSlider(Qt.Orientation.Horizontal, self)
        self.scrubber.setMinimumWidth(160)
        self.scrubber.setEnabled(False)
        self.scrubber.valueChanged.connect(self.scrubbed)
        self.scrubber.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.scrubber)
        self.addWidget(_gap(12))
        self.step_label = QLabel("")
        self.step_label.setObjectName("step_label")
        font = self.step_label.font()
        font.setBold(True)
        self.step_label.setFont(font)
        # Titles vary in length; the label must not push the window's minimum width around.
        self.step_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.step_label.setMinimumWidth(self.step_label.fontMetrics().horizontalAdvance("m" * 24))
        self.addWidget(self.step_label)

    def set_length(self, length: int) -> None:
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, max(0, length - 1))
        self.scrubber.blockSignals(False)
        self.scrubber.setEnabled(length > 0)

    def set_position(self, index: int, caption: str) -> None:
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(max(0, index))
        self.scrubber.blockSignals(False)
        self.step_label.setText(caption)

    def set_speed(self, speed: float) -> None:
        nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed_slider.blockSignals(True)
        self.speed_slider.setValue(nearest)
        self.speed_slider.blockSignals(False)
        self.speed_label.setText(f"{speed:g}x")

    def _on_speed_slider_changed(self, value: int) -> None:
        self.speed_label.setText(f"{SPEEDS[value]:g}x")
        self.speed_selected.emit(SPEEDS[value])


def connect_actions(actions: PlaybackActions, player: Player) -> None:
    """Wire the shared actions to the Player's slots."""
    actions.first.triggered.connect(player.restart)
    actions.back.triggered.connect(player.step_back)
    actions.play.triggered.connect(player.toggle_play)
    actions.forward.triggered.connect(player.step_forward)
    actions.last.triggered.connect(player.go_to_end)
