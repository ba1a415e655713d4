"""Hostile input: every actor's HTTP API fuzzed from its OpenAPI document (schemathesis), the
bank's ISO 8583 endpoint and the trace/HAR loaders fuzzed with hypothesis.

Nothing may answer 500 or raise (httpx's ASGI transport re-raises what an app leaves
unhandled), loaders raise only their documented error types, and a refused request changes
nothing: no order, no ledger entry, no balance or hold moved.

Examples are bounded and derandomized, so a run always tries the same inputs and the
whole file stays within a minute on a small machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from payviz.diagrams.har import HarFormatError, from_har, to_har
from payviz.diagrams.trace_io import LoadResult, TraceFormatError, load_trace
from payviz.engine import iso_messages as iso
from payviz.engine._types import Party
from payviz.engine.actors.gateway import PaymentRequest
from payviz.engine.cards import TEST_CARDS
from payviz.engine.clock import VirtualClock
from payviz.engine.money import CURRENCIES
from payviz.engine.scenario import Scenario
from payviz.engine.trace import Trace
from payviz.engine.webhooks import Signer, new_message_id
from payviz.engine.world import Secrets, World
from tests.helpers.engine import APPROVED_CARD, LiveSession

KEYS = Secrets.generate()
EXAMPLES = 50  # per operation and generation mode
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# -- the OpenAPI documents -------------------------------------------------------------------
# Some handlers read the raw body (forms, notifications, ISO 8583, the gateway's payments, so
# that a bad body is a 422 with a reason): their operations have no requestBody in the
# generated document. The fuzzer is told what each of them reads, with the values a real
# caller sends (test cards, known currencies) among the possible ones, so that valid cases
# go all the way to the bank and negative cases break one rule at a time.

_CARDS = [card.number for card in TEST_CARDS] + ["4242424242424241"]  # the last fails Luhn
_CURRENCY = {"type": "string", "enum": [*CURRENCIES, "usd", "XXX"]}
_STRING = {"type": "string"}
_CARD_FIELDS = {
    "card_number": {"type": "string", "enum": _CARDS},
    "exp": {"type": "string", "pattern": r"^(0[1-9]|1[0-2])/[0-9]{2}$"},
    "cvc": {"type": "string", "pattern": r"^[0-9]{3,4}$"},
}


def _form(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": properties, "required": list(properties)}
        }
    }


_NOTIFICATION = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["payment.succeeded", "payment.failed"]},
                "data": {
                    "type": "object",
                    "properties": {
                        name: _STRING
                        for name in ("order_id", "payment_id", "card", "response_code", "reason")
                    },
                },
            },
            "required": ["type", "data"],
        }
    }
}
_WEBHOOK_HEADERS = [
    {"name": name, "in": "header", "required": False, "schema": _STRING}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
]
RAW_BODIES: dict[tuple[Party, str, str], dict[str, Any]] = {
    ("merchant", "/checkout", "post"): {
        "requestBody": {
            "content": _form(
                {
                    "flow": {"type": "string", "enum": ["direct", "redirect"]},
                    "amount": {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,3})?$"},
                    "currency": _CURRENCY,
                    "email": _STRING,
                    **_CARD_FIELDS,
                }
            )
        }
    },
    ("merchant", "/orders/{order_id}/retry", "post"): {
        "requestBody": {"content": _form(_CARD_FIELDS)}
    },
    ("merchant", "/webhooks/payviz", "post"): {
        "requestBody": {"content": _NOTIFICATION},
        "parameters": _WEBHOOK_HEADERS,
    },
    ("merchant", "/return", "get"): {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": _STRING}
            for name in ("session_id", "order_id", "status", "code", "sig")
        ]
    },
    ("gateway", "/v1/payments", "post"): {
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PaymentRequest"}}
            }
        },
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": _STRING}],
    },
    ("gateway", "/v1/notifications", "post"): {
        "requestBody": {"content": _NOTIFICATION},
        "parameters": _WEBHOOK_HEADERS,
    },
    ("processor", "/pay/{session_id}", "post"): {"requestBody": {"content": _form(_CARD_FIELDS)}},
    ("bank", "/iso8583", "post"): {
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        }
    },
}


def openapi_documents() -> dict[Party, dict[str, Any]]:
    """Each actor's own OpenAPI document, completed with what its raw-body handlers read."""
    world = World(Trace(), VirtualClock(), keys=KEYS)
    try:
        docs: dict[Party, dict[str, Any]] = {
            party: getattr(world, party).app.openapi()
            for party in ("merchant", "gateway", "processor", "bank")
        }
    finally:
        world.orders.close()
    docs = json.loads(json.dumps(docs))  # FastAPI caches the dict: work on a copy
    payment = PaymentRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    gateway_schemas = docs["gateway"].setdefault("components", {}).setdefault("schemas", {})
    gateway_schemas.update(payment.pop("$defs", {}))
    gateway_schemas["PaymentRequest"] = payment
    gateway_schemas["CardDetails"]["properties"]["number"] = {"type": "string", "enum": _CARDS}
    for party, model in (
        ("gateway", "PaymentRequest"),
        ("processor", "SessionRequest"),
        ("processor", "AuthorizationRequest"),
    ):
        docs[party]["components"]["schemas"][model]["properties"]["currency"] = _CURRENCY
    # the card as the gateway seals it, so that an authorization can get past decryption
    sealed = [
        world.gateway.encrypter.seal(
            {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        )
        for number in _CARDS[:3]
    ]
    payment = docs["processor"]["components"]["schemas"]["AuthorizationRequest"]["properties"]
    payment["payment"] = {"type": "string", "enum": sealed}
    for (party, path, method), extra in RAW_BODIES.items():
        operation = docs[party]["paths"][path][method]
        operation.setdefault("parameters", []).extend(extra.get("parameters", []))
        if "requestBody" in extra:
            operation["requestBody"] = extra["requestBody"]
    return docs


def _modes(operation: dict[str, Any]) -> list[GenerationMode]:
    """Negative cases break a rule of the schema: only a JSON or form body has rules to
    break (a path or query of plain strings, or a body of any bytes, has none)."""
    content = operation.get("requestBody", {}).get("content", {})
    if any(media != "application/octet-stream" for media in content):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


DOCUMENTS = openapi_documents()
OPERATIONS = [
    (party, path, method.upper(), mode)
    for party, doc in DOCUMENTS.items()
    for path, methods in doc["paths"].items()
    for method, operation in methods.items()
    for mode in _modes(operation)
]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveSession]:
    harness = LiveSession(keys=KEYS)
    try:
        # real checkouts first, so that requests can name real orders, sessions and payments
        for scenario in (
            Scenario(mode="direct", notify="async"),
            Scenario(mode="direct", decision="decline"),
            Scenario(mode="redirect"),
            Scenario(mode="redirect", decision="decline"),
        ):
            harness.run(harness.session.run_checkout(scenario))
        yield harness
    finally:
        harness.close()


def _known_ids(live: LiveSession) -> dict[str, list[str]]:
    world = live.world
    orders = {str(s.value["id"]) for s in live.session.trace.states() if s.key == "order"}
    return {
        "order_id": sorted(orders),
        "session_id": sorted(world.processor.checkout_sessions),
        "payment_id": sorted(world.gateway.payments),
    }


def _cases(live: LiveSession, party: Party, path: str, method: str, mode: GenerationMode) -> Any:
    """Generated cases for one operation; where it names an order, a session or a payment,
    half of them name one that exists (a made-up id only ever meets a 404)."""
    operation = schemathesis.openapi.from_dict(DOCUMENTS[party])[path][method]
    made_up = operation.as_strategy(generation_mode=mode)
    known = _known_ids(live)
    fixed: list[dict[str, Any]] = []
    for name in ("order_id", "session_id", "payment_id"):
        if "{" + name + "}" in path:
            fixed += [{"path_parameters": {name: value}} for value in known[name]]
    if path == "/return":
        sessions = live.world.processor.checkout_sessions.values()
        fixed += [{"query": {"session_id": c.id, "order_id": c.order_id}} for c in sessions]
    if not fixed:
        return made_up
    real = st.one_of([operation.as_strategy(generation_mode=mode, **f) for f in fixed])
    return st.one_of(made_up, real)


@dataclass(frozen=True)
class Books:
    """Everything a refused request must leave as it was."""

    published: int
    ledger: int
    accounts: dict[str, tuple[int, dict[str, int]]]
    authorizations: int

    @classmethod
    def of(cls, live: LiveSession) -> Books:
        world = live.world
        return cls(
            published=sum(1 for s in live.session.trace.states() if s.key in ("order", "account")),
            ledger=len(world.bank.ledger),
            accounts={p: (a.balance_minor, dict(a.holds)) for p, a in world.bank.accounts.items()},
            authorizations=len(world.processor.authorizations),
        )


def _auth_header(world: World, party: Party, path: str) -> dict[str, str]:
    """The credentials a legitimate caller would present, so fuzzing gets past the door."""
    keys = world.secrets
    if party == "gateway" and not path.startswith("/v1/notifications"):
        return {"authorization": f"Bearer {keys.gateway_api_key}"}
    if party == "processor" and path.startswith("/v1/authorizations"):
        return {"authorization": f"Bearer {keys.processor_api_key}"}
    if party == "processor" and path.startswith("/v1/checkout"):
        return {"authorization": f"Bearer {keys.merchant_processor_key}"}
    return {}


def _signed(world: World, party: Party, request: httpx.Request) -> httpx.Request:
    signer = Signer(world.secrets.webhook_secrets[party], world.clock)
    body = request.content.decode("utf-8", errors="replace")
    headers = {**request.headers, **signer.headers(new_message_id(), body)}
    return httpx.Request(request.method, request.url, headers=headers, content=body.encode())


def _form_body(data: dict[str, Any]) -> bytes:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), item if isinstance(item, str) else json.dumps(item)))
    return urlencode(pairs).encode()


def _request(case: Any, base: str, extra_headers: dict[str, str]) -> httpx.Request:
    """The httpx request for a schemathesis case (its requests-style keyword arguments)."""
    kwargs = case.as_transport_kwargs(base_url=base)
    headers = {
        k: str(v)
        for k, v in kwargs["headers"].items()
        if k.lower() not in ("connection", "accept-encoding")
    }
    headers.update(extra_headers)
    if kwargs.get("cookies"):
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    content: bytes | None = None
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()
    elif isinstance(kwargs.get("data"), dict):
        content = _form_body(kwargs["data"])
    elif isinstance(kwargs.get("data"), (bytes, str)):
        data = kwargs["data"]
        content = data.encode() if isinstance(data, str) else data
    return httpx.Request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=headers,
        content=content,
    )


@pytest.mark.parametrize(("party", "path", "method", "mode"), OPERATIONS, ids=str)
def test_actor_api_survives_generated_requests(
    live: LiveSession, party: Party, path: str, method: str, mode: GenerationMode
) -> None:
    base = live.world.network.url(party)
    client = live.world.network.client("browser")
    statuses: list[int] = []

    @FUZZ
    @given(case=_cases(live, party, path, method, mode), signed=st.booleans())
    def attempt(case: Any, signed: bool) -> None:
        try:
            request = _request(case, base, _auth_header(live.world, party, path))
        except (httpx.InvalidURL, UnicodeEncodeError, ValueError, TypeError):
            return  # httpx itself refuses to build it: nothing reaches the actor
        if signed and path.startswith(("/webhooks", "/v1/notifications")):
            # a hostile body with a valid signature: what a compromised sender could post
            request = _signed(live.world, party, request)
        before = Books.of(live)
        response = live.run(client.send(request))
        live.run(live.world.settle())  # what the request queued (a relayed notification) runs
        statuses.append(response.status_code)
        assert response.status_code < 500, (request.method, str(request.url), response.text)
        if response.status_code >= 400:
            assert Books.of(live) == before, (request.method, str(request.url))

    attempt()
    assert statuses, "no generated request reached the actor"


# -- ISO 8583 at the bank ----------------------------------------------------------------------


def _bank_books(live: LiveSession) -> tuple[object, ...]:
    bank = live.world.bank
    accounts = {p: (a.balance_minor, dict(a.holds)) for p, a in bank.accounts.items()}
    return (list(bank.ledger), accounts, dict(bank.captured), set(bank.reversed), set(bank.decided))


def _post_iso(live: LiveSession, raw: bytes) -> httpx.Response:
    client = live.world.network.client("processor")
    return live.run(
        client.post(
            live.world.network.url("bank", "/iso8583"),
            content=raw,
            headers={"content-type": iso.CONTENT_TYPE},
        )
    )


def _check_bank_answer(live: LiveSession, raw: bytes, before: tuple[object, ...]) -> None:
    response = _post_iso(live, raw)
    assert response.status_code < 500
    if response.headers.get("content-type") == iso.CONTENT_TYPE:
        reply = iso.decode(response.content)  # an answer is itself well-formed
        assert reply["t"] in iso.RESPONSE_MTI.values()
        assert reply["39"].isdigit()
    else:
        assert response.status_code == 400
        assert response.json()["error"]["type"] in ("invalid_iso8583", "unsupported_mti")
        assert _bank_books(live) == before, "a refused message changed the bank's books"


def test_bank_survives_random_bytes(live: LiveSession) -> None:
    hex_digits = st.text("0123456789ABCDEF", max_size=120).map(str.encode)

    @FUZZ
    @given(raw=st.binary(max_size=200) | hex_digits)
    def attempt(raw: bytes) -> None:
        _check_bank_answer(live, raw, _bank_books(live))

    attempt()


def _valid_message(mti: str, stan: str) -> dict[str, str]:
    fields = {
        "t": mti,
        "2": APPROVED_CARD,
        "3": "000000",
        "4": "000000001999",
        "7": "0101120000",
        "11": stan,
        "37": "000000000001",
        "41": "PAYVIZ01",
        "42": "merchant_payviz",
        "49": "840",
    }
    if mti in ("0420", "0421"):
        fields["90"] = "0100" + stan + "0101120000" + "0" * 22
    return fields


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid message with a few bytes flipped, cut, inserted or replaced by digits."""
    mti = draw(st.sampled_from(["0100", "0220", "0420"]))
    stan = f"{draw(st.integers(500_000, 999_999)):06d}"  # clear of the checkouts' own STANs
    raw = bytearray(iso.encode(_valid_message(mti, stan)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, max(0, len(raw) - 1)))
        # a digit for a digit keeps the layout: the likeliest to decode and reach the ledger
        action = draw(st.sampled_from(["digit", "digit", "flip", "cut", "insert", "truncate"]))
        if action == "flip" and raw:
            raw[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del raw[where : where + draw(st.integers(1, 8))]
        elif action == "insert":
            raw[where:where] = draw(st.binary(min_size=1, max_size=6))
        elif action == "digit" and raw:
            raw[where] = ord(str(draw(st.integers(0, 9))))
        else:
            del raw[where:]
    return bytes(raw)


def test_bank_survives_mutated_valid_messages(live: LiveSession) -> None:
    @FUZZ
    @given(raw=mutated())
    def attempt(raw: bytes) -> None:
        _check_bank_answer(live, raw, _bank_books(live))

    attempt()


@settings(FUZZ, max_examples=200)
@given(raw=st.binary(max_size=200) | mutated())
def test_iso_decode_raises_only_iso_error(raw: bytes) -> None:
    try:
        fields = iso.decode(raw)
    except iso.IsoError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


# -- the trace and HAR loaders -----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def recorded(live: LiveSession) -> list[dict[str, Any]]:
    """Real records of the module's checkouts, as JSON objects, to mutate."""
    return [r.to_json() for r in live.session.trace.records]


def _mutated_object(real: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of a real record's keys, each kept or replaced by any JSON value, plus noise."""
    optional = {key: st.just(value) | json_values for key, value in real.items()}
    return st.fixed_dictionaries({}, optional=optional).flatmap(
        lambda base: st.dictionaries(st.text(max_size=6), json_values, max_size=2).map(
            lambda noise: {**noise, **base}
        )
    )


def _cut_last(lines: list[bytes], cut: int) -> list[bytes]:
    """The file as a crash leaves it: the last line short of its last `cut` bytes."""
    if not lines or not cut:
        return lines
    return [*lines[:-1], lines[-1][:-cut]]


def _trace_lines(recorded: list[dict[str, Any]]) -> st.SearchStrategy[list[bytes]]:
    header = st.sampled_from(
        [{"type": "header", "schema": 1, "generator": "payviz"}, {"type": "header", "schema": 2}]
    )
    record = st.sampled_from(recorded).flatmap(_mutated_object)
    line = (header | record | json_values).map(lambda v: json.dumps(v).encode() + b"\n")
    junk = st.binary(max_size=40).map(lambda b: b + b"\n")
    return st.builds(_cut_last, st.lists(line | junk, max_size=8), st.integers(0, 30))


def test_load_trace_reads_or_refuses_hostile_files(
    recorded: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fuzz-trace") / "hostile.jsonl"

    @FUZZ
    @given(lines=_trace_lines(recorded))
    def attempt(lines: list[bytes]) -> None:
        path.write_bytes(b"".join(lines))
        try:
            result = load_trace(path)
        except TraceFormatError:
            return
        assert isinstance(result, LoadResult)
        assert len(result.records) + len(result.skipped) <= len(lines)
        to_har(result.records)  # what it kept can be exported

    try:
        attempt()
    finally:
        path.unlink(missing_ok=True)  # hostile input, not a trace payviz wrote


def test_a_record_whose_type_is_not_a_string_is_skipped(tmp_path: Path) -> None:
    # found by the test above: {"type": [...]} used to raise TypeError (unhashable list)
    path = tmp_path / "odd.jsonl"
    header = {"type": "header", "schema": 1, "generator": "payviz"}
    path.write_text(json.dumps(header) + '\n{"type": ["summary"]}\n', encoding="utf-8")
    result = load_trace(path)
    assert result.records == ()
    assert [number for number, _ in result.skipped] == [2]


def _load_good_and_bad(tmp_path: Path, good: dict[str, Any], bad: dict[str, Any]) -> LoadResult:
    """A trace of a header, a good record and a bad one (lines 1-3), loaded."""
    path = tmp_path / "odd.jsonl"
    header = {"type": "header", "schema": 1, "generator": "payviz"}
    lines = [header, good, bad]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return load_trace(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("src", ["merchant"]),
        ("direction", {"request": 1}),
        ("summary", ["POST /checkout"]),
        ("url", ["https://merchant.payviz.test/checkout"]),
        ("status", "200"),
        ("encrypted", 1),
        ("ts", True),
        ("ts", float("nan")),
        ("ts", float("inf")),
        ("exchange", "3"),
        ("headers", {"content-type": ["text/html"]}),
    ],
)
def test_a_message_with_a_field_of_the_wrong_type_is_skipped(
    recorded: list[dict[str, Any]], tmp_path: Path, field: str, value: Any
) -> None:
    # found by the fuzz above: a list where a party name belongs raised TypeError in the
    # loader, and one where text belongs broke the HAR export of what it kept
    message = next(r for r in recorded if r["type"] == "message" and r["protocol"] == "http")
    result = _load_good_and_bad(tmp_path, message, {**message, field: value})
    assert len(result.records) == 1
    assert [number for number, _ in result.skipped] == [3]
    assert field in result.skipped[0][1] or "party" in result.skipped[0][1]
    to_har(result.records)


@pytest.mark.parametrize(
    ("field", "value"),
    [("party", ["bank"]), ("key", 7), ("seq", 1.5), ("ts", float("nan"))],
)
def test_a_state_change_with_a_field_of_the_wrong_type_is_skipped(
    recorded: list[dict[str, Any]], tmp_path: Path, field: str, value: Any
) -> None:
    state = next(r for r in recorded if r["type"] == "state")
    result = _load_good_and_bad(tmp_path, state, {**state, field: value})
    assert len(result.records) == 1
    assert [number for number, _ in result.skipped] == [3]


@pytest.mark.parametrize("field", ["notify_url", "return_url"])
def test_a_checkout_session_with_an_unusable_url_is_refused(live: LiveSession, field: str) -> None:
    # found by the API fuzz: a notify_url httpx cannot parse was accepted, and the
    # notification's delivery task then raised InvalidURL (not a transport error) and
    # took the whole session down when it settled
    world = live.world
    sessions = dict(world.processor.checkout_sessions)
    body = {
        "order_id": "ord_x",
        "amount_minor": 100,
        "currency": "USD",
        "return_url": "https://merchant.payviz.test/return",
        "notify_url": "https://merchant.payviz.test/webhooks/payviz",
        field: "http://\x1c",
    }
    response = live.run(
        world.network.client("merchant").post(
            world.network.url("processor", "/v1/checkout/sessions"),
            json=body,
            headers=_auth_header(world, "processor", "/v1/checkout/sessions"),
        )
    )
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]
    assert world.processor.checkout_sessions == sessions


def test_from_har_reads_or_refuses_hostile_documents(live: LiveSession) -> None:
    har = to_har(live.session.trace.records)
    entries = har["log"]["entries"]
    entry = st.sampled_from(entries).flatmap(_mutated_object) | json_values
    log = st.fixed_dictionaries(
        {},
        optional={
            "entries": st.lists(entry, max_size=5) | json_values,
            "_payviz_other": st.lists(
                st.sampled_from(har["log"]["_payviz_other"]).flatmap(_mutated_object), max_size=3
            )
            | json_values,
            "_payviz_states": st.lists(
                st.sampled_from(har["log"]["_payviz_states"]).flatmap(_mutated_object), max_size=3
            )
            | json_values,
        },
    )
    document = st.fixed_dictionaries({"log": log}) | json_values

    @FUZZ
    @given(data=document)
    def attempt(data: Any) -> None:
        try:
            result = from_har(data)
        except HarFormatError:
            return
        to_har(result.records)  # what it kept can be exported again

    attempt()
