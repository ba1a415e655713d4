import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Shared set-up: Qt runs without a display (set above, before any QApplication exists),
# and QSettings writes to a temporary folder so no test touches the user's settings.

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def settings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point QSettings (native and INI, user and system scope) at a fresh temporary folder."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder
