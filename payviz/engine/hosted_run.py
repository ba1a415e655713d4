"""The scripted customer's path through hosted checkout (redirect flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .actors.browser import Page

if TYPE_CHECKING:
    from .scenario import Scenario
    from .session import Session


async def run_hosted_checkout(session: Session, scenario: Scenario, card: str) -> Page:
    raise NotImplementedError("redirect flow")
