"""The invariants badge: after each checkout, whether the engine's guarantees held.

The engine checks them (`payviz.engine.invariants.check`, run by the bridge on the engine
thread); the badge only says the result: a check mark when all hold, the broken rule's
sentence in the error colour when one does not, every detail in its tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QWidget

from payviz.diagrams.topology import ERROR_COLOUR, OKABE_ITO

if TYPE_CHECKING:
    from payviz.engine.invariants import Violation

BADGE_WIDTH = 250  # a fixed floor: a long rule must not change the window's minimum size


def describe(violations: Sequence[Violation]) -> str:
    """One sentence for the status bar: all hold, or the first broken rule and its detail."""
    from payviz.engine.invariants import INVARIANT_COUNT

    if not violations:
        return f"Invariants: all {INVARIANT_COUNT} hold."
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f"Invariant broken: {violations[0]}{more}."


class InvariantsBadge(QLabel):
    """A pass/fail badge for the last checkout's invariants, in the status bar.

    Attributes:
        violations: what the last check found (None: nothing checked for what is shown,
            e.g. a trace opened from a file).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("invariants_badge")
        self.setMinimumWidth(BADGE_WIDTH)
        # Fixed height too: the border comes and goes, the status bar's height must not.
        self.setFixedHeight(self.fontMetrics().height() + 10)
        self.violations: tuple[Violation, ...] | None = None
        self.clear_result()

    def show_result(self, violations: Sequence[Violation]) -> None:
        from payviz.engine.invariants import INVARIANT_COUNT

        self.violations = tuple(violations)
        if not violations:
            colour = OKABE_ITO["bluish_green"]
            self.setText(f"\u2714 Invariants: all {INVARIANT_COUNT} hold")
            self.setToolTip(
                "Money is conserved, nothing is captured without an approval or twice, every "
                "order ends paid or failed, and no hold is left orphaned."
            )
        else:
            colour = ERROR_COLOUR
            first = violations[0].rule
            more = f" (+{len(violations) - 1})" if len(violations) > 1 else ""
            self.setText(f"\u2718 Invariant broken: {first}{more}")
            self.setToolTip("\n".join(str(violation) for violation in violations))
        self.setStyleSheet(
            f"QLabel {{ color: {colour}; font-weight: bold; border: 2px solid {colour};"
            " border-radius: 6px; padding: 1px 8px; }"
        )

    def clear_result(self) -> None:
        """Nothing checked for what is shown: the badge is empty (it keeps its place)."""
        self.violations = None
        self.setText("")
        self.setToolTip("The invariants are checked after each checkout run here.")
        self.setStyleSheet("")
