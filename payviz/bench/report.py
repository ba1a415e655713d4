"""Benchmark figures: one measured value, its target, its ratio to a floor, pass or not."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """One benchmark figure as `payviz bench` prints it and writes it to JSON.

    Attributes:
        name: dotted name, e.g. "engine.inprocess"; value and unit: what was measured.
        target: the goal in words ("<= 1.5x floor time", "<= 16 ms").
        ratio: measured / floor where there is a floor, else None.
        passed: whether the target holds (None: not measured here).
        extra: the figures behind it (the floor's own value, p50 beside a p99, counts).
        note: why a figure could not be measured or what limits it.
    """

    name: str
    value: float
    unit: str
    target: str
    ratio: float | None = None
    passed: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "value": _clean(self.value),
            "unit": self.unit,
            "target": self.target,
            "ratio": None if self.ratio is None else _clean(self.ratio),
            "pass": self.passed,
        }
        data.update({key: _clean(value) for key, value in self.extra.items()})
        if self.note:
            data["note"] = self.note
        return data


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def failed_figure(name: str, unit: str, target: str, error: str) -> Figure:
    """A figure whose measurement itself failed: reported, never silently left out."""
    last = error.strip().splitlines()[-1] if error.strip() else "unknown error"
    return Figure(name, math.nan, unit, target, None, False, note=f"not measured: {last}")


def _value(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def table(figures: list[Figure]) -> str:
    """The figures as a fixed-width table (what `payviz bench` prints)."""
    header = f"{'figure':<18}{'value':>12}  {'unit':<14}{'ratio':>7}  {'target':<22}{'pass':<5}"
    lines = [header, "-" * len(header)]
    for figure in figures:
        ratio = "" if figure.ratio is None else f"{figure.ratio:.2f}x"
        verdict = {True: "yes", False: "NO", None: "-"}[figure.passed]
        lines.append(
            f"{figure.name:<18}{_value(figure.value):>12}  {figure.unit:<14}{ratio:>7}  "
            f"{figure.target:<22}{verdict:<5}"
        )
        details = ", ".join(
            f"{key} {_value(value) if isinstance(value, float) else value}"
            for key, value in figure.extra.items()
        )
        if details:
            lines.append(f"{'':<18}  {details}")
        if figure.note:
            lines.append(f"{'':<18}  note: {figure.note}")
    return "\n".join(lines)


def write_json(figures: list[Figure], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([f.to_json() for f in figures], indent=2) + "\n", "utf-8")
