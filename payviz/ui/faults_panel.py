"""The faults panel: what should go wrong in the next checkouts ("Fault injection").

It only composes fault specs as the CLI takes them (`NAME[@LINK][=ARG]`); the engine's
Scenario validates them and the engine does the damage. The default link of each fault
(`DEFAULT_LINKS`, the link where it teaches most) is pre-selected for the current flow.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from payviz.diagrams.topology import LINK_INFO
from payviz.engine._types import Mode, Party
from payviz.engine.faults import (
    ADVERSARIAL_FAULTS,
    BANK_FAULTS,
    DEFAULT_DELAY_SECONDS,
    DEFAULT_LINKS,
    LINK_FAULTS,
)

# What each fault does, in the words a tooltip has room for.
DESCRIPTIONS: Final[dict[str, str]] = {
    "drop": "the message is lost on the wire; the sender times out and retries",
    "delay": "the message arrives late by the given number of seconds",
    "duplicate": "the message arrives twice",
    "reorder": "the message is held back and arrives after later ones",
    "reset": "the connection breaks before an answer comes back",
    "http-500": "the receiver answers 500 Internal Server Error without handling the request",
    "tamper-jwe": "an attacker flips bytes in the encrypted card data",
    "forge-return": "the customer edits a failed return URL to say 'paid'",
    "replay-webhook": "an attacker sends an old notification again later",
    "bad-signature": "a notification arrives with a wrong signature",
    "wrong-api-key": "a request carries a wrong API key",
    "timeout": "the bank never answers the authorization",
    "unavailable": "the bank is down and refuses the authorization",
}
NO_FAULTS = "No faults armed: the next checkout runs clean."


def directed_links(mode: Mode) -> list[tuple[Party, Party]]:
    """Every sender -> receiver pair on a link that takes part in `mode`."""
    pairs: list[tuple[Party, Party]] = []
    for (a, b), info in LINK_INFO.items():
        if mode in info.modes:
            pairs += [(a, b), (b, a)]
    return pairs


class FaultsPanel(QWidget):
    """Checkable faults for the next checkouts: on a link, by an attacker, at the bank.

    Signals:
        faults_changed(tuple): the armed faults as spec strings, after any change.

    Attributes:
        link_faults: fault name -> (its check box, its link box) for the wire faults.
        other_faults: fault name -> check box, for adversarial and bank faults.
        delay_box: the seconds a "delay" fault holds its message.
        summary: the line saying what is armed.
    """

    faults_changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("faults_panel")
        self._mode: Mode = "direct"
        intro = QLabel(
            "Pick what goes wrong in the next checkouts. Each fault fires once, on the first "
            "message it matches; the invariants then say whether the payment survived."
        )
        intro.setWordWrap(True)
        self.link_faults: dict[str, tuple[QCheckBox, QComboBox]] = {}
        self.other_faults: dict[str, QCheckBox] = {}
        wire = QGroupBox("On the wire (sender \u2192 receiver)")
        grid = QGridLayout(wire)
        for row, name in enumerate(LINK_FAULTS):
            check = self._check(name)
            links = QComboBox()
            links.setToolTip("the link the fault acts on; pre-selected: its default")
            links.currentIndexChanged.connect(self._on_choice_changed)
            self.link_faults[name] = (check, links)
            grid.addWidget(check, row, 0)
            grid.addWidget(links, row, 1)
        self.delay_box = QDoubleSpinBox()
        self.delay_box.setRange(0.0, 86400.0)
        self.delay_box.setDecimals(1)
        self.delay_box.setValue(DEFAULT_DELAY_SECONDS)
        self.delay_box.setSuffix(" s")
        self.delay_box.valueChanged.connect(self._on_choice_changed)
        grid.addWidget(self.delay_box, LINK_FAULTS.index("delay"), 2)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(wire)
        layout.addWidget(self._group("Attacks and careless clients", ADVERSARIAL_FAULTS))
        layout.addWidget(self._group("At the bank", BANK_FAULTS))
        self.summary = QLabel(NO_FAULTS)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        clear = QPushButton("Clear all")
        clear.clicked.connect(self.clear)
        layout.addWidget(self.summary)
        layout.addWidget(clear, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.set_mode("direct")

    def _check(self, name: str) -> QCheckBox:
        check = QCheckBox(name)
        check.setObjectName(f"fault_{name}")
        check.setToolTip(DESCRIPTIONS.get(name, ""))
        check.toggled.connect(self._on_choice_changed)
        return check

    def _group(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        group = QGroupBox(title)
        grid = QGridLayout(group)
        for number, name in enumerate(names):
            self.other_faults[name] = check = self._check(name)
            grid.addWidget(check, number // 2, number % 2)
        return group

    # -- choices ---------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Offer the links of this flow, keeping each choice that still exists."""
        self._mode = "redirect" if mode == "redirect" else "direct"
        pairs = directed_links(self._mode)
        for name, (_check, links) in self.link_faults.items():
            kept = links.currentData()
            links.blockSignals(True)
            links.clear()
            for src, dst in pairs:
                links.addItem(f"{src} \u2192 {dst}", f"{src}-{dst}")
            default = DEFAULT_LINKS[self._mode].get(name)
            wanted = kept if links.findData(kept) >= 0 else None
            if wanted is None and default is not None:
                wanted = f"{default[0]}-{default[1]}"
            links.setCurrentIndex(max(0, links.findData(wanted)))
            links.blockSignals(False)
        self._on_choice_changed()

    def set_link(self, name: str, link: str) -> None:
        """Choose the link ("merchant-gateway") of a wire fault."""
        links = self.link_faults[name][1]
        links.setCurrentIndex(links.findData(link))

    def clear(self) -> None:
        checks = [check for check, _ in self.link_faults.values()]
        for check in [*checks, *self.other_faults.values()]:
            check.blockSignals(True)
            check.setChecked(False)
            check.blockSignals(False)
        self._on_choice_changed()

    def specs(self) -> tuple[str, ...]:
        """The armed faults as spec strings, e.g. ('http-500@merchant-gateway',)."""
        chosen: list[str] = []
        for name, (check, links) in self.link_faults.items():
            if check.isChecked() and links.currentData():
                spec = f"{name}@{links.currentData()}"
                if name == "delay":
                    spec += f"={self.delay_box.value():g}"
                chosen.append(spec)
        chosen += [name for name, check in self.other_faults.items() if check.isChecked()]
        return tuple(chosen)

    def _on_choice_changed(self) -> None:
        for name, (check, links) in self.link_faults.items():
            links.setEnabled(check.isChecked())
            if name == "delay":
                self.delay_box.setEnabled(check.isChecked())
        specs = self.specs()
        self.summary.setText(f"Armed: {', '.join(specs)}" if specs else NO_FAULTS)
        self.faults_changed.emit(specs)
