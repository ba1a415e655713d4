"""The HAR import dialog: which party answers at each host of a HAR saved elsewhere.

A HAR from a browser's developer tools names hosts, not parties. `guess_party` reads the
host's labels ("shop." -> merchant, "bank." -> bank); the dialog shows each guess in an
editable combo box, and the import uses the answers as its host map.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from payviz.diagrams.har import guess_party
from payviz.diagrams.topology import PARTY_INFO
from payviz.engine._types import PARTIES, Party


class HostMapDialog(QDialog):
    """One row per host: the host and a combo box of parties, the guess pre-selected.

    Attributes:
        boxes: host -> its party combo box (the item data is the party's name).
    """

    def __init__(
        self, hosts: Mapping[str, Party], file_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("host_map_dialog")
        self.setWindowTitle(f"Import {file_name}")
        intro = QLabel(
            "Who answers at each host? The parties are guessed from the host names; "
            "correct any guess before the trace opens."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        self.boxes: dict[str, QComboBox] = {}
        for host, party in sorted(hosts.items()):
            box = QComboBox()
            for choice in PARTIES:
                box.addItem(PARTY_INFO[choice].label, choice)
            box.setCurrentIndex(box.findData(party))
            guessed = guess_party(host.split(":")[0])
            box.setToolTip(
                f"guessed from the host name: {guessed}"
                if guessed
                else "no party in the host name: taken for the merchant"
            )
            self.boxes[host] = box
            form.addRow(QLabel(host), box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        layout.activate()  # the minimum size is settled before the native window exists

    def set_party(self, host: str, party: Party) -> None:
        box = self.boxes[host]
        box.setCurrentIndex(box.findData(party))

    def host_map(self) -> dict[str, str]:
        """The answers as `from_har`'s host map: host -> party name."""
        return {host: str(box.currentData()) for host, box in self.boxes.items()}
