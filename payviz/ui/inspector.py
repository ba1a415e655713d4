"""The inspector: everything about the message at the playhead, one tab per angle.

It only lays out what `payviz.diagrams.inspect` computes (the JWE opened, the signature
checked, the ISO 8583 fields named); tabs that do not apply to a message are disabled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QFont, QTextOption
from PySide6.QtWidgets import QLabel, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO

if TYPE_CHECKING:
    from PySide6.QtWidgets import QPlainTextEdit, QTableWidget

    # What opens JWEs and checks signatures (cryptography, joserfc) loads with the first
    # message shown, not with the window.
    from payviz.diagrams import inspect
    from payviz.engine.trace import Message

TABS = ("Summary", "Headers", "Body", "Encryption", "Signature", "ISO 8583", "Raw")
PART_COLOURS = ("blue", "reddish_purple", "orange", "bluish_green", "sky_blue")
GOOD_COLOUR = OKABE_ITO["bluish_green"]
BASE_MONO_POINTS = 11.0
EMPTY_TEXT = "Step to a message to see it here: its headers, body, encryption and signature."


def _mono(text: str) -> str:
    from html import escape

    return f'<pre style="white-space: pre-wrap">{escape(text)}</pre>'


def _table(rows: list[tuple[str, str]]) -> str:
    from html import escape

    cells = "".join(
        f'<tr><td style="padding-right:12px"><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>'
        for k, v in rows
    )
    return f'<table cellspacing="0" cellpadding="3">{cells}</table>'


def _jwe_html(view: inspect.JweView) -> str:
    from html import escape

    coloured = ".".join(
        f'<span style="color:{OKABE_ITO[c]}">{escape(v)}</span>'
        for c, (_, v) in zip(PART_COLOURS, view.parts, strict=True)
    )
    legend = "".join(
        f'<tr><td style="padding-right:12px"><b style="color:{OKABE_ITO[c]}">{escape(name)}</b>'
        f"</td><td>{len(value)} characters</td></tr>"
        for c, (name, value) in zip(PART_COLOURS, view.parts, strict=True)
    )
    html = [f'<p style="font-size:large"><b>Who can read it?</b> {escape(view.readers)}</p>']
    if view.plaintext is not None:
        html += [
            "<h3>Plaintext, opened with the processor's private key</h3>",
            _mono(view.plaintext),
        ]
    if view.error:
        html.append(f'<p style="color:{ERROR_COLOUR}">\u2718 {escape(view.error)}</p>')
    html += [
        "<h3>On the wire: a compact JWE, five parts joined by dots</h3>",
        f'<p style="font-family:monospace">{coloured}</p>',
        f'<table cellspacing="0" cellpadding="3">{legend}</table>',
        "<h3>Protected header (base64url JSON, readable by anyone)</h3>",
        _mono(json.dumps(view.header, indent=2)),
    ]
    return "".join(html)


def _signature_html(view: inspect.SignatureView) -> str:
    from html import escape

    colour, mark, word = (
        (GOOD_COLOUR, "\u2714", "Verified")
        if view.verified
        else (ERROR_COLOUR, "\u2718", "Not verified")
    )
    rows = [("scheme", view.scheme)]
    if view.msg_id:
        rows += [("webhook-id", view.msg_id), ("webhook-timestamp", view.timestamp)]
    rows.append(("key", f"the {view.receiver}'s secret, from the key log"))
    what = "{id}.{timestamp}.{body}" if view.msg_id else "the outcome fields of the URL"
    return "".join(
        [
            f'<h2 style="color:{colour}">{mark} {word}</h2>',
            f"<p>{escape(view.reason)}</p>",
            _table(rows),
            f"<h3>Signed content: {escape(what)}</h3>",
            _mono(view.signed_content),
            "<h3>Expected signature (HMAC-SHA256)</h3>",
            _mono(view.expected or "(cannot be computed)"),
            "<h3>Received signature</h3>",
            _mono(view.received),
        ]
    )


class InspectorPanel(QWidget):
    """The message at the playhead in seven tabs; tabs that do not apply are disabled.

    Attributes:
        heading: "#12 gateway -> processor"; subheading: the message's summary.
        tabs: the QTabWidget; its pages are named after `TABS`.
        message: the message shown, or None.
        summary, headers, body, encryption, signature, iso, raw: the pages. Until a
            message is shown only the summary is in view: the others are made then, each
            in the place its tab keeps for it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message: Message | None = None
        self.heading = QLabel(EMPTY_TEXT)
        self.heading.setWordWrap(True)
        font = QFont(self.heading.font())
        font.setBold(True)
        self.heading.setFont(font)
        self.subheading = QLabel("")
        self.subheading.setWordWrap(True)
        for label in (self.heading, self.subheading):
            # A fixed floor: a long URL must not change the window's minimum width.
            label.setMinimumWidth(120)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.tabBar().setExpanding(False)
        self._mono_scale = 1.0
        self.summary = self._browser()
        self._pages: dict[str, QWidget] = {TABS[0]: self.summary}
        self._places: dict[str, QVBoxLayout] = {}
        for name in TABS:
            if name in self._pages:
                self.tabs.addTab(self._pages[name], name)
                continue
            place = QWidget()
            self._places[name] = QVBoxLayout(place)
            self._places[name].setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(place, name)
        # Wide enough for every tab's name: a disabled tab hidden behind a scroll arrow
        # would hide the fact that it does not apply.
        self.setMinimumWidth(self.tabs.tabBar().sizeHint().width() + 24)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addWidget(self.tabs, 1)
        self.show_message(None, {})

    def sizeHint(self) -> QSize:
        return QSize(620, 700)

    def _make_pages(self) -> None:
        """The pages behind the summary, each put in its tab's place (once)."""
        if len(self._pages) == len(TABS):
            return
        self.headers = self._table(("header", "value"), stretch=1)
        self.body = self._plain()
        self.encryption = self._browser()
        self.signature = self._browser()
        self.iso = self._table(("field", "name", "value", "meaning"), stretch=1)
        self.raw = self._plain()
        pages: tuple[QWidget, ...] = (
            self.summary,
            self.headers,
            self.body,
            self.encryption,
            self.signature,
            self.iso,
            self.raw,
        )
        self._pages = dict(zip(TABS, pages, strict=True))
        for name, place in self._places.items():
            place.addWidget(self._pages[name])

    @staticmethod
    def _browser() -> QTextBrowser:
        browser = QTextBrowser()
        browser.setOpenLinks(False)
        browser.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        return browser

    def _plain(self) -> QPlainTextEdit:
        # The pages behind the summary are made with the first message: so are their classes.
        from PySide6.QtGui import QFontDatabase
        from PySide6.QtWidgets import QPlainTextEdit

        edit = QPlainTextEdit()
        edit.setReadOnly(True)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(BASE_MONO_POINTS * self._mono_scale)
        edit.setFont(mono)
        edit.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        return edit

    @staticmethod
    def _table(columns: tuple[str, ...], stretch: int) -> QTableWidget:
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget

        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(list(columns))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # One column gives way (elided, full text in the tooltip): for ISO 8583 the field's
        # name, so that values and their meaning always show whole.
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        return table

    # -- showing ---------------------------------------------------------------------------

    def show_message(
        self, message: Message | None, keylog: Mapping[str, Any], started_at: float | None = None
    ) -> None:
        """Show `message`, verifying what can be verified with the key log."""
        self.message = message
        if message is None:
            self.heading.setText(EMPTY_TEXT)
            self.subheading.setText("")
            for index in range(self.tabs.count()):
                self.tabs.setTabEnabled(index, index == 0)
            self.summary.setHtml("")
            return
        from payviz.diagrams import inspect

        self._make_pages()
        self.heading.setText(f"#{message.seq}  {message.src} \u2192 {message.dst}")
        self.subheading.setText(message.summary)
        self.summary.setHtml(_table(inspect.summary_rows(message)))
        self._fill(self.headers, [(k, v) for k, v in message.headers.items()])
        body = inspect.body_view(message)
        self.body.setPlainText(body.text)
        jwe = inspect.jwe_view(message, keylog)
        self.encryption.setHtml(_jwe_html(jwe) if jwe else "")
        signature = inspect.signature_view(message, keylog, started_at)
        self.signature.setHtml(_signature_html(signature) if signature else "")
        rows = inspect.iso_view(message)
        self._fill(self.iso, [(r.number, r.name, r.value, r.meaning) for r in rows])
        self.raw.setPlainText(inspect.raw_view(message))
        applies = {
            "Summary": True,
            "Headers": bool(message.headers),
            "Body": body.kind != "empty",
            "Encryption": jwe is not None,
            "Signature": signature is not None,
            "ISO 8583": bool(rows),
            "Raw": True,
        }
        for index, name in enumerate(TABS):
            self.tabs.setTabEnabled(index, applies[name])
        if not self.tabs.isTabEnabled(self.tabs.currentIndex()):
            self.tabs.setCurrentIndex(0)

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
        from PySide6.QtWidgets import QTableWidgetItem

        table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, column, item)
        table.resizeRowsToContents()

    def set_scale(self, factor: float) -> None:
        """Scale the monospaced views with the rest of the window (View > Zoom)."""
        self._mono_scale = factor
        if len(self._pages) < len(TABS):  # made at this scale when needed
            return
        for edit in (self.body, self.raw):
            font = QFont(edit.font())
            font.setPointSizeF(BASE_MONO_POINTS * factor)
            edit.setFont(font)

    # -- queries (tests, snapshots) --------------------------------------------------------

    def select_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def select_telling_tab(self) -> None:
        """Open the tab that says most about this message: encryption, signature or ISO."""
        for name in ("Encryption", "Signature", "ISO 8583"):
            if self.is_tab_enabled(name):
                self.select_tab(name)
                return

    def is_tab_enabled(self, name: str) -> bool:
        return self.tabs.isTabEnabled(TABS.index(name))

    def text_of(self, name: str) -> str:
        """The plain text a tab shows (tables as tab-separated rows)."""
        from PySide6.QtWidgets import QPlainTextEdit, QTableWidget

        if name not in TABS:
            raise KeyError(name)
        page = self._pages.get(name)  # a page not made yet is empty
        if isinstance(page, QTableWidget):
            lines = []
            for row in range(page.rowCount()):
                cells = [page.item(row, c) for c in range(page.columnCount())]
                lines.append("\t".join(cell.text() if cell else "" for cell in cells))
            return "\n".join(lines)
        if isinstance(page, QTextBrowser | QPlainTextEdit):
            return page.toPlainText()
        return ""
