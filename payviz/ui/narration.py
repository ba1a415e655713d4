"""The narration panel: which step of the handshake the playhead is in, told in plain words.

Everything it says comes from the engine's STEPS table, the same words the diagram's step
banner and the exports use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from payviz.engine._types import MODES, Mode

if TYPE_CHECKING:
    from payviz.engine.trace import Message

FLOW_NAMES: dict[str, str] = {
    "direct": "Direct checkout: the shop's own card form",
    "redirect": "Redirect: the processor's hosted checkout page",
}
IDLE_TEXT = (
    "Press Run checkout (Ctrl+R) to watch a card payment travel from the customer's browser "
    "to the bank and back. Step through it with the arrow keys."
)


def step_caption(message: Message | None) -> str:
    """'step 3 of 7: Processor asks the bank', or an empty string with no message."""
    if message is None or message.mode not in MODES:
        return ""
    from payviz.engine.steps import STEPS, step_info

    mode: Mode = "direct" if message.mode == "direct" else "redirect"
    step = step_info(mode, message.step)
    return f"step {step.number} of {len(STEPS[mode])}: {step.title}"


def _label(point_size: float, *, bold: bool = False, wrap: bool = True) -> QLabel:
    label = QLabel()
    font = QFont(label.font())
    font.setPointSizeF(point_size)
    font.setBold(bold)
    label.setFont(font)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


def _mute(label: QLabel) -> None:
    """Secondary text: the text colour moved a third of the way toward the background."""
    palette = label.palette()
    text, back = (
        palette.color(QPalette.ColorRole.WindowText),
        palette.color(QPalette.ColorRole.Window),
    )
    mixed = QColor(
        round(text.red() * 0.62 + back.red() * 0.38),
        round(text.green() * 0.62 + back.green() * 0.38),
        round(text.blue() * 0.62 + back.blue() * 0.38),
    )
    palette.setColor(QPalette.ColorRole.WindowText, mixed)
    label.setPalette(palette)


class NarrationPanel(QScrollArea):
    """Large, readable text for the message at the playhead: step number, title, narration.

    Attributes:
        flow_label: the flow's name (direct or redirect).
        title_label: "Step 3 of 7 · Processor asks the bank".
        narration_label: the step's classroom narration.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("narration")
        # A scroll area: wrapped text of any length never dictates the window's minimum size.
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        self.flow_label = _label(11)
        self.title_label = _label(18, bold=True)
        self.narration_label = _label(14)
        _mute(self.flow_label)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(16, 6, 16, 6)
        layout.setSpacing(4)
        for widget in (self.flow_label, self.title_label, self.narration_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        # Scroll only when the text needs it: wrapped labels would otherwise claim the height
        # they need at their narrowest, and the scroll bar would always show.
        content.setMinimumHeight(80)
        self.setWidget(content)
        self._base_sizes = {
            label: label.font().pointSizeF()
            for label in (self.flow_label, self.title_label, self.narration_label)
        }
        self.show_message(None)

    def sizeHint(self) -> QSize:
        return QSize(900, 180)

    def show_message(self, message: Message | None) -> None:
        """Tell the step of `message`; with None, say how to begin."""
        if message is None or message.mode not in MODES:
            self.flow_label.setText("payviz: how an online card payment works")
            self.title_label.setText("Ready")
            self.narration_label.setText(IDLE_TEXT)
            return
        from payviz.engine.steps import STEPS, step_info

        mode: Mode = "direct" if message.mode == "direct" else "redirect"
        step = step_info(mode, message.step)
        self.flow_label.setText(f"{FLOW_NAMES[mode]} · checkout {message.checkout}")
        self.title_label.setText(f"Step {step.number} of {len(STEPS[mode])} · {step.title}")
        self.narration_label.setText(step.narration)

    def set_scale(self, factor: float) -> None:
        """Scale every text for a projector (View > Zoom)."""
        for label, size in self._base_sizes.items():
            font = QFont(label.font())
            font.setPointSizeF(size * factor)
            label.setFont(font)
