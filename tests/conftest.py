import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Shared set-up: Qt runs without a display (set above, before any QApplication exists),
# and QSettings writes to a temporary folder so no test touches the user's settings.

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import Message, Record


@pytest.fixture(autouse=True)
def settings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point QSettings (native and INI, user and system scope) at a fresh temporary folder."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


@dataclass(frozen=True)
class RecordedRun:
    """A real checkout's trace, with what the inspector needs to verify it."""

    records: list[Record]
    keylog: dict[str, Any]
    started: float

    @property
    def messages(self) -> list[Message]:
        return [r for r in self.records if isinstance(r, Message)]


def record_checkout(scenario: Scenario) -> RecordedRun:
    """Run one checkout in a fresh in-process session (virtual clock) and keep its trace."""

    async def go() -> RecordedRun:
        session = Session()
        await session.start()
        try:
            await session.run_checkout(scenario)
            keylog = dict(session.keylog())
            return RecordedRun(list(session.trace.records), keylog, session.world.recorder.started)
        finally:
            await session.close()

    return asyncio.run(go())


@pytest.fixture(scope="session")
def direct_run() -> RecordedRun:
    return record_checkout(Scenario(mode="direct", notify="async"))
