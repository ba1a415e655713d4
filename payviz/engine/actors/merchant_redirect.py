"""The merchant's side of hosted checkout (redirect flow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from . import merchant_pages as pages

if TYPE_CHECKING:
    from .merchant import Merchant
    from .merchant_db import Order


async def start_hosted_checkout(merchant: Merchant, order: Order) -> Response:
    merchant.move(
        order.id, "failed", "hosted checkout unavailable", reason="hosted checkout is not available"
    )
    return HTMLResponse(pages.error_page("Unavailable", "hosted checkout"), status_code=501)


def add_routes(merchant: Merchant, app: FastAPI) -> None:
    return None
