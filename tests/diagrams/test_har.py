"""HAR 1.2 export of real checkouts and import of payviz's own and browser-made HARs."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from payviz import __version__
from payviz.diagrams.har import (
    HarFormatError,
    from_har,
    guess_party,
    parse_host_map,
    to_har,
)
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Message, Record

from .recorded import record_trace, records

# -- a validator written from the HAR 1.2 specification's required fields ---------------

PAIR = {"name": str, "value": str}
REQUEST = {
    "method": str,
    "url": str,
    "httpVersion": str,
    "cookies": list,
    "headers": list,
    "queryString": list,
    "headersSize": int,
    "bodySize": int,
}
RESPONSE = {
    "status": int,
    "statusText": str,
    "httpVersion": str,
    "cookies": list,
    "headers": list,
    "content": dict,
    "redirectURL": str,
    "headersSize": int,
    "bodySize": int,
}
CONTENT = {"size": int, "mimeType": str}
TIMINGS = {"send": (int, float), "wait": (int, float), "receive": (int, float)}
ENTRY = {
    "startedDateTime": str,
    "time": (int, float),
    "request": dict,
    "response": dict,
    "cache": dict,
    "timings": dict,
}


def _fields(where: str, data: Any, required: dict[str, Any]) -> list[str]:
    if not isinstance(data, dict):
        return [f"{where} is not an object"]
    return [
        f"{where}.{name} missing or not {kind}"
        for name, kind in required.items()
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool)
    ]


def har_problems(har: Any) -> list[str]:
    """Every violation of HAR 1.2's required fields (an empty list for a valid file)."""
    log = har.get("log") if isinstance(har, dict) else None
    problems = _fields("log", log, {"version": str, "creator": dict, "entries": list})
    if problems:
        return problems
    assert isinstance(log, dict)
    problems += _fields("log.creator", log["creator"], {"name": str, "version": str})
    for index, entry in enumerate(log["entries"]):
        at = f"entries[{index}]"
        problems += _fields(at, entry, ENTRY)
        if problems:
            continue
        datetime.fromisoformat(entry["startedDateTime"])  # ISO 8601
        request, response = entry["request"], entry["response"]
        problems += _fields(f"{at}.request", request, REQUEST)
        problems += _fields(f"{at}.response", response, RESPONSE)
        for part, key in ((request, "headers"), (request, "queryString"), (response, "headers")):
            for item in part.get(key, []):
                problems += _fields(f"{at}.{key}[]", item, PAIR)
        for cookie in [*request.get("cookies", []), *response.get("cookies", [])]:
            problems += _fields(f"{at}.cookies[]", cookie, PAIR)
        if "postData" in request:
            problems += _fields(f"{at}.request.postData", request["postData"], {"mimeType": str})
        problems += _fields(f"{at}.response.content", response["content"], CONTENT)
        timings = entry["timings"]
        problems += _fields(f"{at}.timings", timings, TIMINGS)
        spent = sum(v for v in timings.values() if isinstance(v, int | float) and v >= 0)
        if abs(spent - entry["time"]) > 0.001 or entry["time"] < 0:
            problems.append(f"{at}.time is not the sum of its timings")
    return problems


# -- real runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Record]]:
    folder = tmp_path_factory.mktemp("har")
    scenarios = {
        "direct": Scenario(mode="direct"),
        "redirect": Scenario(mode="redirect"),
        "timeout": Scenario(mode="direct", decision="timeout"),
        "declined": Scenario(mode="redirect", decision="decline"),
    }
    return {
        name: records(record_trace(folder / f"{name}.jsonl", scenario))
        for name, scenario in scenarios.items()
    }


def _messages(found: list[Record]) -> list[Message]:
    return [r for r in found if isinstance(r, Message)]


def _http(found: list[Record]) -> list[Message]:
    return [m for m in _messages(found) if m.protocol == "http"]


def _stripped(har: dict[str, Any]) -> dict[str, Any]:
    """The HAR as a tool that drops custom fields would save it."""
    plain = copy.deepcopy(har)
    for entry in plain["log"]["entries"]:
        del entry["_payviz"]
        entry["response"].pop("_payviz", None)
    for key in [k for k in plain["log"] if k.startswith("_")]:
        del plain["log"][key]
    return plain


@pytest.mark.parametrize("name", ["direct", "redirect", "timeout", "declined"])
def test_every_entry_has_the_fields_har_1_2_requires(
    runs: dict[str, list[Record]], name: str
) -> None:
    har = json.loads(json.dumps(to_har(runs[name])))
    assert har_problems(har) == []
    assert har["log"]["version"] == "1.2"
    assert har["log"]["creator"] == {"name": "payviz", "version": __version__}


@pytest.mark.parametrize("name", ["direct", "redirect"])
def test_each_http_exchange_is_one_entry_and_nothing_is_lost(
    runs: dict[str, list[Record]], name: str
) -> None:
    har = to_har(runs[name])
    entries = har["log"]["entries"]
    requests = [m for m in _http(runs[name]) if m.direction == "request"]
    assert [e["_payviz"]["seq"] for e in entries] == [m.seq for m in requests]
    for entry, request in zip(entries, requests, strict=True):
        extra = entry["_payviz"]
        for key in ("step", "title", "src", "dst", "checkout", "mode", "seq"):
            assert extra[key] == getattr(request, key)
        assert entry["request"]["method"] == request.method
        assert entry["request"]["url"] == request.url
        answer = next(
            m
            for m in _http(runs[name])
            if m.exchange == request.exchange and m.direction == "response"
        )
        assert entry["response"]["status"] == answer.status
        assert entry["response"]["_payviz"]["seq"] == answer.seq
    dates = [datetime.fromisoformat(e["startedDateTime"]) for e in entries]
    assert dates == sorted(dates)
    kept = {m["seq"] for m in har["log"]["_payviz_other"]}
    assert {m.seq for m in _messages(runs[name]) if m.protocol != "http"} <= kept
    in_entries = {e["_payviz"]["seq"] for e in entries} | {
        e["response"]["_payviz"]["seq"] for e in entries
    }
    assert in_entries | kept == {m.seq for m in _messages(runs[name])}


@pytest.mark.parametrize("name", ["direct", "redirect", "timeout", "declined"])
def test_payviz_to_har_to_payviz_gives_the_same_trace(
    runs: dict[str, list[Record]], name: str
) -> None:
    back = from_har(json.loads(json.dumps(to_har(runs[name]))))
    assert back.records == runs[name]
    assert back.skipped == []
    assert back.skipped_other == []


@pytest.mark.parametrize("name", ["direct", "redirect", "declined"])
def test_a_har_without_payviz_fields_keeps_the_http_messages_order_and_parties(
    runs: dict[str, list[Record]], name: str
) -> None:
    original = _http(runs[name])
    imported = from_har(_stripped(to_har(runs[name])))
    assert imported.mode == original[0].mode  # guessed from who talks to whom
    requests = [m for m in imported.messages if m.direction == "request"]
    expected = [m for m in original if m.direction == "request"]
    key = ("src", "dst", "method", "url", "step", "kind")
    assert [[getattr(m, k) for k in key] for m in requests] == [
        [getattr(m, k) for k in key] for m in expected
    ]
    answers = {m.exchange: m for m in imported.messages if m.direction == "response"}
    for request, source in zip(requests, expected, strict=True):
        answer = answers[request.exchange]
        truth = next(
            m for m in original if m.exchange == source.exchange and m.direction == "response"
        )
        assert (answer.src, answer.dst, answer.status) == (truth.src, truth.dst, truth.status)
    assert [m.seq for m in imported.messages] == list(range(1, len(original) + 1))


def test_an_http_request_without_its_answer_is_an_entry_with_status_0(
    runs: dict[str, list[Record]],
) -> None:
    found = _messages(runs["direct"])
    last_request = [m for m in found if m.protocol == "http" and m.direction == "request"][-1]
    cut = [m for m in found if m.seq <= last_request.seq]
    har = to_har(cut)
    assert har_problems(har) == []
    assert har["log"]["entries"][-1]["response"]["status"] == 0
    assert from_har(har).messages == tuple(cut)


def test_a_browser_har_becomes_messages_between_guessed_parties() -> None:
    card = "4242424242424242"
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [
                _browser_entry("GET", "https://www.example-shop.com/checkout", 200, 0),
                _browser_entry(
                    "POST",
                    "https://www.example-shop.com/checkout",
                    303,
                    120,
                    location="https://checkout.stripe.com/pay/cs_1",
                    body="amount=10.00&email=a%40b.c",
                ),
                _browser_entry("GET", "https://checkout.stripe.com/pay/cs_1", 200, 400),
                _browser_entry(
                    "POST",
                    "https://checkout.stripe.com/pay/cs_1",
                    0,
                    900,
                    body=f"card_number={card}&cvc=123",
                ),
            ],
        }
    }
    imported = from_har(har)
    assert imported.mode == "redirect"
    assert imported.hosts == {
        "www.example-shop.com": "merchant",
        "checkout.stripe.com": "processor",
    }
    requests = [m for m in imported.messages if m.direction == "request"]
    assert [(m.src, m.dst, m.step) for m in requests] == [
        ("browser", "merchant", 1),
        ("browser", "merchant", 1),
        ("browser", "processor", 2),
        ("browser", "processor", 3),
    ]
    assert card not in json.dumps([m.to_json() for m in imported.messages])
    assert "424242******4242" in requests[-1].body
    failed = imported.messages[-1]
    assert (failed.direction, failed.status, failed.kind) == ("response", None, "error")
    assert failed.error == "net::ERR_CONNECTION_RESET"
    assert imported.messages[1].body == "<p>shop</p>"  # base64 content decoded


def test_the_caller_maps_hosts_that_say_nothing() -> None:
    har = {
        "log": {
            "entries": [
                _browser_entry("GET", "https://127.0.0.1:9001/checkout", 200, 0),
                _browser_entry("GET", "https://127.0.0.1:9003/pay/cs_1", 200, 10),
            ]
        }
    }
    guessed = from_har(har)
    assert {m.dst for m in guessed.messages if m.direction == "request"} == {"merchant"}
    mapped = from_har(har, parse_host_map(["127.0.0.1:9003=processor"]))
    assert [m.dst for m in mapped.messages if m.direction == "request"] == [
        "merchant",
        "processor",
    ]
    assert mapped.mode == "redirect"


def test_entries_missing_required_fields_are_skipped_by_index(
    runs: dict[str, list[Record]],
) -> None:
    har = _stripped(to_har(runs["direct"]))
    entries = har["log"]["entries"]
    del entries[2]["request"]["url"]
    del entries[4]["response"]
    entries[5]["response"]["status"] = "200"
    imported = from_har(har)
    assert imported.skipped == [
        (2, "request.url missing"),
        (4, "response missing"),
        (5, "response.status missing or not a number"),
    ]
    assert len(imported.messages) == 2 * (len(entries) - 3)


def test_something_that_is_not_a_har_is_refused() -> None:
    for data in ({"type": "header"}, [], {"log": {"entries": "none"}}):
        with pytest.raises(HarFormatError, match="not a HAR"):
            from_har(data)


@pytest.mark.parametrize(
    ("host", "party"),
    [
        ("merchant.payviz.test", "merchant"),
        ("gateway.payviz.test", "gateway"),
        ("processor.payviz.test", "processor"),
        ("bank.payviz.test", "bank"),  # not "processor" for the "pay" in "payviz"
        ("www.mystore.example", "merchant"),
        ("js.stripe.com", "processor"),
        ("checkout-live.adyen.com", "processor"),
        ("secure.issuer-bank.example", "bank"),
        ("127.0.0.1", None),
    ],
)
def test_host_names_suggest_their_party(host: str, party: str | None) -> None:
    assert guess_party(host) == party


def test_a_host_map_names_known_parties_only() -> None:
    assert parse_host_map(["Shop.Test=Merchant"]) == {"shop.test": "merchant"}
    with pytest.raises(ValueError, match="unknown party 'acquirer'"):
        parse_host_map(["x.test=acquirer"])
    with pytest.raises(ValueError, match="HOST=PARTY"):
        parse_host_map(["x.test"])


def _browser_entry(
    method: str, url: str, status: int, at_ms: int, *, location: str = "", body: str = ""
) -> dict[str, Any]:
    """An entry as Chrome's developer tools save it (HTTP/2 pseudo-headers, base64, _error)."""
    started = datetime.fromisoformat("2026-03-01T10:00:00+00:00").timestamp() + at_ms / 1000
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "http/2.0",
        "headers": [
            {"name": ":authority", "value": url.split("/")[2]},
            {"name": "user-agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"},
        ],
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(body),
    }
    if body:
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": body}
    response: dict[str, Any] = {
        "status": status,
        "statusText": "",
        "httpVersion": "http/2.0",
        "headers": [{"name": "location", "value": location}] if location else [],
        "cookies": [],
        "content": {
            "size": 11,
            "mimeType": "text/html",
            "text": base64.b64encode(b"<p>shop</p>").decode(),
            "encoding": "base64",
        },
        "redirectURL": location,
        "headersSize": -1,
        "bodySize": -1,
    }
    if status == 0:
        response["_error"] = "net::ERR_CONNECTION_RESET"
    return {
        "startedDateTime": datetime.fromtimestamp(started).astimezone().isoformat(),
        "time": 35.5,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0.5, "wait": 30, "receive": 5},
    }


def test_the_browser_entry_helper_is_itself_valid_har() -> None:
    har = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": []}}
    har["log"]["entries"] = [_browser_entry("GET", "https://a.test/", 200, 0)]
    assert har_problems(har) == []


def test_exported_har_files_open_as_json(runs: dict[str, list[Record]], tmp_path: Path) -> None:
    path = tmp_path / "direct.har"
    path.write_text(json.dumps(to_har(runs["direct"])), encoding="utf-8")
    assert from_har(json.loads(path.read_text(encoding="utf-8"))).records == runs["direct"]
