"""docs/trace-format.md describes every field payviz emits, and its example really works."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from payviz.engine.session import CheckoutResult
from payviz.engine.trace import SCHEMA_VERSION, Message, StateChange
from tests.helpers.engine import CliRun, run_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "trace-format.md"


@dataclass(frozen=True)
class Emitted:
    stdout: CliRun
    trace_lines: list[dict[str, Any]]
    trace: Path
    keylog: Path


def _run(folder: Path, *args: str) -> Emitted:
    trace, keylog = folder / "trace.jsonl", folder / "keys.json"
    run = run_cli("run", *args, "--format", "json", "--trace", str(trace), "--keylog", str(keylog))
    assert run.status == 0, run.stderr
    lines = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    return Emitted(run, lines, trace, keylog)


RUNS = {
    "direct-approve": ("--mode", "direct", "--decision", "approve"),
    "direct-timeout": ("--mode", "direct", "--decision", "timeout"),
    "redirect-decline": ("--mode", "redirect", "--decision", "decline"),
}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Emitted]:
    return {name: _run(tmp_path_factory.mktemp(name), *args) for name, args in RUNS.items()}


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _documented(doc: str, name: str) -> bool:
    return f"`{name}`" in doc


def test_every_field_of_payviz_run_format_json_is_documented(
    emitted: dict[str, Emitted], doc: str
) -> None:
    missing = {
        f"{line['type']}.{key}"
        for run in emitted.values()
        for line in run.stdout.lines
        for key in line
        if not _documented(doc, key)
    }
    assert not missing, f"not in {DOC.name}: {sorted(missing)}"


def test_every_field_of_a_trace_file_is_documented(emitted: dict[str, Emitted], doc: str) -> None:
    missing = {
        f"{line['type']}.{key}"
        for run in emitted.values()
        for line in run.trace_lines
        for key in line
        if not _documented(doc, key)
    }
    assert not missing, f"not in {DOC.name}: {sorted(missing)}"


def test_every_field_the_record_types_can_carry_is_documented(doc: str) -> None:
    """Also the fields no run above happened to show (all are emitted, but be sure)."""
    names = {f.name for cls in (Message, StateChange, CheckoutResult) for f in fields(cls)}
    assert sorted(n for n in names if not _documented(doc, n)) == []


def test_every_kind_and_state_key_seen_is_documented(emitted: dict[str, Emitted], doc: str) -> None:
    lines = [line for run in emitted.values() for line in run.trace_lines]
    kinds = {line["kind"] for line in lines if line["type"] == "message"}
    keys = {line["key"] for line in lines if line["type"] == "state"}
    values = {
        name
        for line in lines
        if line["type"] == "state" and isinstance(line["value"], dict)
        for name in line["value"]
    }
    assert {"request", "response", "iso8583", "notification", "encrypted"} <= kinds
    undocumented = sorted(n for n in kinds | keys if not _documented(doc, n))
    undocumented += sorted(v for v in values if f'"{v}"' not in doc)
    assert undocumented == []


def test_the_documented_schema_version_is_the_one_written(
    emitted: dict[str, Emitted], doc: str
) -> None:
    assert f"schema version {SCHEMA_VERSION}" in doc
    header = emitted["direct-approve"].trace_lines[0]
    assert header["schema"] == SCHEMA_VERSION
    assert f'{{"type": "header", "schema": {SCHEMA_VERSION}, "generator": "payviz"}}' in doc


def test_the_doc_covers_masking_stripping_iso_and_the_key_log(doc: str) -> None:
    for must in (
        "424242******4242",  # PAN as BIN and last four
        '"***"',  # CVC
        "masked *in place* in `raw`",
        "`x-payviz-run`",
        "application/iso8583",
        "`jwe_keys`",
        "`kid`",
        "`private_key_pem`",
        "`webhook_secrets`",
        "whsec_",
        "`return_url_secret`",
        "`ca_cert_pem`",
        "jwcrypto",
        "standardwebhooks",
        "pyiso8583",
    ):
        assert must in doc, must


def _example(doc: str) -> str:
    section = doc.split("## Verifying with outside tools", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the example script is missing"
    return match.group(1)


@pytest.mark.parametrize("run", list(RUNS))
def test_the_documented_example_verifies_a_real_trace(
    emitted: dict[str, Emitted], doc: str, run: str, tmp_path: Path
) -> None:
    recorded = emitted[run]
    (tmp_path / "trace.jsonl").write_bytes(recorded.trace.read_bytes())
    (tmp_path / "keys.json").write_bytes(recorded.keylog.read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", _example(doc)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "signature ok" in out
    assert "ISO 8583 0110" in out
    if run.startswith("direct"):
        assert "JWE holds card 4242424242424242" in out
    else:
        assert "return URL signature ok" in out
