"""Open recent: the last files opened or saved, kept in QSettings, newest first."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Final

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu

MAX_RECENT: Final = 8
KEY: Final = "files/recent"


class RecentFiles(QObject):
    """The list behind File > Open recent, and the submenu that shows it.

    Signals:
        file_chosen(str): the user picked an entry whose file still exists.
        file_missing(str): the user picked an entry whose file is gone (it is dropped).

    Attributes:
        menu: the submenu, rebuilt whenever the list changes.
    """

    file_chosen = Signal(str)
    file_missing = Signal(str)

    def __init__(self, settings: QSettings, menu: QMenu) -> None:
        super().__init__(menu)
        self._settings = settings
        self.menu = menu
        self._fill()

    def paths(self) -> list[str]:
        value = self._settings.value(KEY, [])
        # INI settings give back a lone string for a one-item list.
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [str(item) for item in items if item][:MAX_RECENT]

    def add(self, path: Path) -> None:
        name = str(path.resolve())
        self._store([name, *(item for item in self.paths() if item != name)])

    def remove(self, name: str) -> None:
        self._store([item for item in self.paths() if item != name])

    def clear(self) -> None:
        self._store([])

    def folder(self) -> str:
        """Where file dialogs start: the newest entry's folder, else the home folder."""
        items = self.paths()
        return str(Path(items[0]).parent) if items else str(Path.home())

    def _store(self, items: list[str]) -> None:
        self._settings.setValue(KEY, items[:MAX_RECENT])
        self._fill()

    def _fill(self) -> None:
        # Not QMenu.clear(): an entry may be the very action whose signal is being handled.
        for action in self.menu.actions():
            self.menu.removeAction(action)
            action.deleteLater()
        items = self.paths()
        for number, name in enumerate(items, start=1):
            action = self.menu.addAction(f"&{number} {Path(name).name}")
            action.setToolTip(name)
            action.triggered.connect(partial(self._on_entry_triggered, name))
        if items:
            self.menu.addSeparator()
            self.menu.addAction("&Clear the list").triggered.connect(self.clear)
        self.menu.setEnabled(bool(items))

    def _on_entry_triggered(self, name: str) -> None:
        if Path(name).is_file():
            self.file_chosen.emit(name)
        else:
            self.remove(name)
            self.file_missing.emit(name)
