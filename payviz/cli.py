"""The command line: `payviz` opens the app; `payviz run` runs a checkout headless."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from .engine._types import DECISIONS, MODES, NOTIFY_BY_MODE
from .engine.cards import CardError, check_test_card
from .engine.invariants import INVARIANT_COUNT, Violation, check
from .engine.money import AmountError, currency, to_minor
from .engine.scenario import Scenario
from .engine.session import CheckoutResult, Session
from .engine.trace import Message

SUBCOMMANDS = ("run", "serve", "export", "chaos", "bench", "load")
DIAGRAM_FORMATS = ("mermaid", "plantuml")
EXPORT_FORMATS = ("mermaid", "plantuml", "har", "jsonl", "svg", "png")


class UsageError(Exception):
    """Bad arguments: reported as one line on stderr with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="payviz", description="See how an online card payment really works.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="run one checkout headless and print its messages")
    run.add_argument("--mode", choices=MODES, default="direct")
    run.add_argument("--decision", choices=DECISIONS)
    run.add_argument("--card", help="a test card number (default: the card for --decision)")
    run.add_argument("--amount", default="19.99", help="amount in major units, e.g. 12.34")
    run.add_argument("--currency", default="USD")
    all_notify = sorted({n for styles in NOTIFY_BY_MODE.values() for n in styles})
    run.add_argument("--notify", choices=all_notify)
    run.add_argument("--retry-card", help="after a decline, retry the same order with this card")
    run.add_argument("--abandon-after-payment", action="store_true")
    run.add_argument("--transport", choices=("inprocess", "loopback"), default="inprocess")
    run.add_argument("--trace", type=Path, help="write the trace (JSON Lines) to this file")
    run.add_argument("--keylog", type=Path, help="write the session's secrets to this file")
    run.add_argument("--db", type=Path, help="keep the merchant's SQLite database in this file")
    run.add_argument("--format", choices=("text", "json", *DIAGRAM_FORMATS), default="text")
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[@LINK][=ARG]",
        help="inject a fault (repeatable): drop, delay=S, duplicate, reorder, reset, http-500 "
        "on a link such as merchant-gateway; tamper-jwe, forge-return, replay-webhook, "
        "bad-signature, wrong-api-key; timeout or unavailable at the bank",
    )

    serve = sub.add_parser("serve", help="run the actors as HTTPS servers for a real browser")
    serve.add_argument("--mode", choices=MODES, default="direct")
    serve.add_argument("--notify", choices=all_notify)
    serve.add_argument("--port-base", type=int, help="first port (default: any free ports)")
    serve.add_argument("--trace", type=Path, help="write the trace (JSON Lines) to this file")
    serve.add_argument("--keylog", type=Path, help="write the session's secrets to this file")

    export = sub.add_parser("export", help="turn a trace, a saved session or a HAR into a diagram")
    export.add_argument("trace", type=Path, help="a trace (.jsonl), saved session or HAR (.har)")
    export.add_argument("--to", choices=EXPORT_FORMATS, required=True)
    export.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    export.add_argument(
        "--map", action="append", default=[], metavar="HOST=PARTY", help="HAR host's party"
    )
    export.add_argument(
        "--scale", type=float, default=2.0, help="PNG pixels per point (default 2: crisp on slides)"
    )
    from .cli_chaos import add_chaos_parser

    add_chaos_parser(sub)
    from .bench.commands import add_parsers as add_bench_parsers

    add_bench_parsers(sub)
    return parser


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    try:
        currency(args.currency)
        amount_minor = to_minor(args.amount, args.currency)
        for number in (args.card, args.retry_card):
            if number is not None:
                check_test_card(number)
        return Scenario(
            mode=args.mode,
            notify=args.notify,
            decision=args.decision,
            card=args.card,
            amount_minor=amount_minor,
            currency=args.currency.upper(),
            retry_card=args.retry_card,
            abandon_after_payment=args.abandon_after_payment,
            faults=tuple(args.fault),
        )
    except (AmountError, CardError) as exc:
        raise UsageError(str(exc)) from None
    except ValidationError as exc:
        raise UsageError("; ".join(str(e["msg"]) for e in exc.errors())) from None


def _text_line(message: Message) -> str:
    route = f"{message.src} -> {message.dst}"
    lock = " [JWE]" if message.encrypted else ""
    return f"{message.seq:4d}  {message.step}  {route:<22} {message.summary}{lock}"


def emit(line: str) -> None:
    """Print a line; when the reader has gone (`payviz run | head`), stop quietly."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        # Point stdout at /dev/null so later prints and the final flush stay silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


async def _run(
    args: argparse.Namespace, scenario: Scenario
) -> tuple[CheckoutResult, list[Violation]]:
    session = Session(
        transport=args.transport, trace_path=args.trace, keylog_path=args.keylog, db_path=args.db
    )
    if args.format == "json":
        session.trace.subscribe(
            lambda r: emit(json.dumps(r.to_json())) if isinstance(r, Message) else None
        )
    elif args.format == "text":
        session.trace.subscribe(lambda r: emit(_text_line(r)) if isinstance(r, Message) else None)
    async with session:
        result = await session.run_checkout(scenario)
        violations = check(session.world)
    if args.format in DIAGRAM_FORMATS:
        from .diagrams.exports import render

        emit(render(args.format, session.trace.records).rstrip("\n"))
    return result, violations


def run_command(args: argparse.Namespace) -> int:
    scenario = scenario_from_args(args)
    if args.format == "text":
        emit(f"payviz run: {scenario.mode} flow, notify {scenario.notify_style}")
        emit(" seq  step from -> to              summary")
    result, violations = asyncio.run(_run(args, scenario))
    if args.format == "json":
        emit(json.dumps({**result.to_json(), "invariants": [str(v) for v in violations]}))
    elif args.format == "text":
        emit(f"outcome: {result.describe()}")
        if result.customer_message:
            emit(f"customer sees: {result.customer_message}")
        if violations:
            for violation in violations:
                emit(f"invariant broken: {violation}")
        else:
            emit(f"invariants: all {INVARIANT_COUNT} hold")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from .engine._types import DEFAULT_NOTIFY
    from .engine.serve import ServeInfo, serve

    notify = args.notify or DEFAULT_NOTIFY[args.mode]
    if notify not in NOTIFY_BY_MODE[args.mode]:
        allowed = ", ".join(NOTIFY_BY_MODE[args.mode])
        raise UsageError(f"--notify {notify} does not apply to {args.mode} mode ({allowed})")
    if args.port_base is not None and not 1024 <= args.port_base <= 65000:
        raise UsageError("--port-base must be between 1024 and 65000")

    def ready(info: ServeInfo) -> None:
        print(f"payviz serve: {args.mode} flow, notify {notify}")
        for party, url in info.urls.items():
            print(f"  {party:<10} {url}")
        print(f"CA certificate: {info.ca_cert_path}")
        print(f"Shop: {info.shop_url}")
        print("Press Ctrl-C to stop.", flush=True)

    try:
        session = asyncio.run(
            serve(args.mode, notify, args.port_base, args.trace, args.keylog, ready)
        )
    except OSError as exc:
        raise UsageError(f"cannot listen: {exc}") from None
    print(f"stopped after {len(session.trace.messages())} messages", flush=True)
    return 0


ImageExporter = Callable[[list[Message], Path, str, float], None]


def _image_exporter(fmt: str, output: Path | None) -> ImageExporter:
    """The app's renderer for SVG/PNG; images need Qt, so the diagrams layer has none."""
    try:
        from .ui.render import export_image  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise UsageError(
            f"--to {fmt} needs the app's renderer (payviz.ui.render.export_image), "
            "which this installation does not have; use mermaid or plantuml"
        ) from None
    if output is None:
        raise UsageError(f"--to {fmt} writes an image file: give it with -o FILE")
    exporter: ImageExporter = export_image
    return exporter


def export_command(args: argparse.Namespace) -> int:
    from .diagrams.exports import ExportInputError, read_input, render
    from .diagrams.har import parse_host_map

    try:
        host_map = parse_host_map(args.map)
    except ValueError as exc:
        raise UsageError(f"--map: {exc}") from None
    image = _image_exporter(args.to, args.output) if args.to in ("svg", "png") else None
    if not 0.25 <= args.scale <= 8:
        raise UsageError("--scale must be between 0.25 and 8")
    try:
        loaded = read_input(args.trace, host_map)
    except ExportInputError as exc:
        raise UsageError(str(exc)) from None
    if host_map and loaded.source != "har":
        raise UsageError("--map applies to a HAR input only")
    for problem in loaded.problems:
        print(f"payviz: {problem}", file=sys.stderr)
    if image is not None:
        try:
            image(loaded.messages, args.output, args.to, args.scale)
        except OSError as exc:
            raise UsageError(str(exc)) from None
        return 0
    text = render(args.to, loaded.records, loaded.scenarios)
    if args.output is None:
        emit(text.rstrip("\n"))
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in SUBCOMMANDS and args_list[0] not in ("-h", "--help")):
        from .ui.app import main as gui_main

        status: int = gui_main(args_list)
        return status
    try:
        args = _parser().parse_args(args_list)
        if args.command == "run":
            return run_command(args)
        if args.command == "serve":
            return serve_command(args)
        if args.command == "export":
            return export_command(args)
        if args.command in ("bench", "load"):
            from .bench.commands import command as bench_or_load

            return bench_or_load(args, UsageError)
        if args.command == "chaos":
            from .cli_chaos import chaos_command

            return chaos_command(args)
    except UsageError as exc:
        print(f"payviz: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
