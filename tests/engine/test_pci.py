"""PCI DSS: nothing payviz writes holds a card number or a card security code.

The test runs a representative set of commands into its own folder (checkouts in both
flows with a trace, a key log and a database, a decline and a retry, a tampered JWE, the
exports, a small chaos run; every command's output kept as a .log), then scans every file
of that folder, and every trace, database, HAR and log any other test left under pytest's
base temporary folder, for a Luhn-valid 13-19 digit number outside JWE ciphertext, and for
the test cards' numbers anywhere. The merchant's databases are also read row by row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from payviz.engine.cards import TEST_CARDS, luhn_valid
from tests.helpers.engine import run_cli

CVC = "123"  # what the scripted customer types
PANS = [card.number for card in TEST_CARDS]
# A compact JWE: five base64url parts, the header starting {" (eyJ). Its ciphertext is
# random, and may hold a digit run by chance: it is left out of the scan.
JWE = re.compile(rb"eyJ[\w-]*\.[\w-]*\.[\w-]*\.[\w-]*\.[\w-]*")
# A number on its own (not part of an id such as pay_3f06..., of hex, or a decimal
# fraction), digits possibly grouped as people type them: spaces or dashes, and a form
# post's "+" or "%20" for a space.
CANDIDATE = re.compile(rb"(?<![\w.*%])(?:\d(?:[ +-]|%20)?){12,18}\d(?![\w*])")
SEPARATORS = re.compile(rb"[ +-]|%20")
SCANNED_ELSEWHERE = ("*.jsonl", "*.db", "*.db-wal", "*.har", "*.log")


def luhn_runs(data: bytes) -> list[str]:
    """Every Luhn-valid 13-19 digit number in the data, JWE tokens left out."""
    found = []
    for match in CANDIDATE.finditer(JWE.sub(b"", data)):
        digits = SEPARATORS.sub(b"", match.group()).decode()
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(digits)
    return found


def test_the_scanner_finds_what_it_looks_for() -> None:
    assert luhn_runs(b'{"card": "4242424242424242"}') == ["4242424242424242"]
    assert luhn_runs(b"card_number=4000+0000+0000+0002&") == ["4000000000000002"]
    assert luhn_runs(b"card_number=4000%200000%200000%200002") == ["4000000000000002"]
    assert luhn_runs(b"card 4000 0000 0000 0002 typed") == ["4000000000000002"]
    assert luhn_runs(b"424242******4242, pay_4242424242424242, 0.4242424242424242") == []
    assert luhn_runs(b"4242424242424241") == []  # fails Luhn


def _commands(folder: Path) -> Iterator[tuple[str, list[str]]]:
    def paths(name: str) -> list[str]:
        return [
            "--trace",
            str(folder / f"{name}.jsonl"),
            "--keylog",
            str(folder / f"{name}-keys.json"),
            "--db",
            str(folder / f"{name}.db"),
        ]

    yield "direct", ["run", "--mode", "direct", "--format", "json", *paths("direct")]
    yield "redirect", ["run", "--mode", "redirect", *paths("redirect")]
    yield (
        "retry",
        [
            "run",
            "--decision",
            "decline",
            "--retry-card",
            "4242 4242 4242 4242",
            "--notify",
            "async",
            *paths("retry"),
        ],
    )
    yield (
        "redirect-retry",
        [
            "run",
            "--mode",
            "redirect",
            "--card",
            "4000-0000-0000-9995",
            "--retry-card",
            "4242424242424242",
            *paths("redirect-retry"),
        ],
    )
    yield "tampered", ["run", "--fault", "tamper-jwe", "--format", "json", *paths("tampered")]
    yield "timeout", ["run", "--fault", "timeout", "--format", "mermaid", *paths("timeout")]
    trace = str(folder / "direct.jsonl")
    for fmt, suffix in (
        ("har", "har"),
        ("mermaid", "mmd"),
        ("plantuml", "puml"),
        ("jsonl", "jsonl"),
    ):
        yield (
            f"export-{fmt}",
            ["export", trace, "--to", fmt, "-o", str(folder / f"export.{suffix}")],
        )
    yield "export-har-back", ["export", str(folder / "export.har"), "--to", "jsonl"]
    yield "chaos", ["chaos", "--runs", "4", "--seed", "7"]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every command wrote into, with each command's output as NAME.log."""
    folder = tmp_path_factory.mktemp("pci")
    for name, args in _commands(folder):
        result = run_cli(*args)
        assert result.status == 0, (name, result.stderr)
        (folder / f"{name}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    return folder


def _scanned(written: Path) -> list[Path]:
    mine = [p for p in written.rglob("*") if p.is_file()]
    base = written.parent
    others = {p for pattern in SCANNED_ELSEWHERE for p in base.rglob(pattern) if p.is_file()}
    return sorted(set(mine) | others)


def test_no_card_number_in_any_written_file(written: Path) -> None:
    files = _scanned(written)
    assert len([p for p in files if p.parent == written]) >= 25
    problems = []
    for path in files:
        data = path.read_bytes()
        for digits in luhn_runs(data):
            problems.append(f"{path}: Luhn-valid number {digits[:6]}...{digits[-4:]}")
        for pan in PANS:
            if pan.encode() in data:
                problems.append(f"{path}: test card {pan[:6]}...{pan[-4:]} in the clear")
    assert problems == []


def test_keylogs_hold_keys_not_cards(written: Path) -> None:
    keylogs = sorted(written.glob("*-keys.json"))
    assert len(keylogs) == 6
    for keylog in keylogs:
        text = keylog.read_text(encoding="utf-8")
        assert "PRIVATE KEY" in text  # what the key log is for...
        assert luhn_runs(text.encode()) == []  # ...and nothing else


def _rows(db: Path) -> Iterator[tuple[str, str, object]]:
    connection = sqlite3.connect(db)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    yield table, column, value
    finally:
        connection.close()


def test_the_merchant_database_keeps_no_cvc_and_no_full_pan(written: Path) -> None:
    databases = sorted(written.glob("*.db"))
    assert len(databases) == 6
    seen_cards = set()
    for db in databases:
        for table, column, value in _rows(db):
            assert "cvc" not in column.lower()
            assert "cvv" not in column.lower()
            if not isinstance(value, str):
                continue
            assert value != CVC, f"{db.name}: {table}.{column} holds what looks like the CVC"
            assert not re.search(r"\bcvc\b|\bcvv\b", value, re.IGNORECASE), (table, column)
            assert luhn_runs(value.encode()) == [], (db.name, table, column)
            assert not any(pan in re.sub(r"[ -]", "", value) for pan in PANS), (table, column)
            if table == "orders" and column == "card":
                seen_cards.add(value)
    # the card is kept, masked: BIN and last four only
    assert seen_cards
    assert all(re.fullmatch(r"\d{6}\*{6}\d{4}", card) for card in seen_cards), seen_cards
