"""What every actor shares: clear 4xx errors and the HTTP plumbing around FastAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException as StarletteHTTPException

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": code, "message": message, **extra}}


class ActorError(Exception):
    """A refusal with a status, a machine-readable code and a reason a person can read."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def make_app(title: str) -> FastAPI:
    """A FastAPI app whose every refusal is a JSON error with a reason, never a 500 page."""
    # payviz records every message in its own trace; FastAPI's native OpenTelemetry would
    # only ask the global providers on every request whether anyone listens (about 120 us).
    app = FastAPI(title=title, docs_url=None, redoc_url=None, telemetry=NO_TELEMETRY)

    @app.exception_handler(ActorError)
    async def _actor_error(_: Request, exc: ActorError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse(
            error_body("invalid_request", "; ".join(problems) or "invalid request"),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body("http_error", str(exc.detail)), status_code=exc.status_code)

    return app


def bearer_token(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
