"""PySide6 widgets that show the diagrams and drive the engine."""
