"""The engine's building blocks on their own: cards, masking, money, signatures, JWE, time."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal

import iso8583
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from payviz.engine import cards
from payviz.engine import iso_messages as iso
from payviz.engine.cards import (
    RESPONSE_CODES,
    TEST_CARDS,
    CardError,
    check_test_card,
    luhn_valid,
    mask_pan,
    mask_text,
    redact,
)
from payviz.engine.clock import DeadlineExceeded, VirtualClock
from payviz.engine.jwe import Decrypter, Encrypter, JweError, KeyPair, protected_header
from payviz.engine.money import MAX_AMOUNT_MINOR, AmountError, format_minor, to_minor
from payviz.engine.webhooks import SignatureError, Signer, Verifier, new_secret

START = 1_800_000_000.0

# -- Luhn and test cards ---------------------------------------------------------------


@pytest.mark.parametrize("card", [c.number for c in TEST_CARDS])
def test_every_test_card_passes_luhn(card: str) -> None:
    assert luhn_valid(card)


@pytest.mark.parametrize(
    "number",
    ["4242424242424241", "4242424242424243", "42424242424a4242", "", "4242", "4" * 20],
)
def test_luhn_refuses_bad_numbers(number: str) -> None:
    assert not luhn_valid(number)


def test_luhn_accepts_other_real_world_numbers() -> None:
    assert luhn_valid("378282246310005")  # 15-digit Amex test number
    assert luhn_valid("5555555555554444")


def test_check_test_card_accepts_spaced_input() -> None:
    assert check_test_card("4242 4242 4242 4242").number == "4242424242424242"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("4242424242424241", "Luhn"),
        ("5555555555554444", "only test cards"),
        ("4242x", "only digits"),
    ],
)
def test_check_test_card_refuses_with_a_reason(number: str, reason: str) -> None:
    with pytest.raises(CardError, match=reason) as refused:
        check_test_card(number)
    assert number not in str(refused.value), "the refusal never repeats the number in full"


# -- masking ---------------------------------------------------------------------------


def test_mask_pan_keeps_bin_and_last_four() -> None:
    assert mask_pan("4242424242424242") == "424242******4242"
    assert mask_pan("378282246310005") == "378282*****0005"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("paid with 4242424242424242.", "paid with 424242******4242."),
        ("card 4242 4242 4242 4242 ok", "card 4242 42** **** 4242 ok"),
        ("card 4242-4242-4242-4242 ok", "card 4242-42**-****-4242 ok"),
        ('{"number":"4000000000009995"}', '{"number":"400000******9995"}'),
        ("card_number=4242+4242+4242+4242&x=1", "card_number=4242+42**+****+4242&x=1"),
        ("card_number=4242%204242%204242%204242", "card_number=4242%2042**%20****%204242"),
        ("amex 378282246310005", "amex 378282*****0005"),
        ("<code>4000000000000002</code>", "<code>400000******0002</code>"),
        ("/orders/4242424242424242?x=1", "/orders/424242******4242?x=1"),
    ],
)
def test_mask_text_masks_card_numbers_in_free_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 1234567890123 for 19.99",  # 13 digits, not Luhn-valid
        "4242424242424241 fails Luhn",
        "stamp 17956012345678901234",  # 20 digits: no card is that long
        "already masked 424242******4242",
        # ids are hex: their digits can look like a card number, but they are words
        '{"id":"auth_ab4000000000000002cd","payment_id":"pay_4242424242424242"}',
        "webhook-id msg_4000000000009995",
    ],
)
def test_mask_text_leaves_other_numbers_alone(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ('{"cvc":"123"}', '{"cvc":"***"}'),
        ('{"CVV" : "1234", "n": 1}', '{"CVV" : "***", "n": 1}'),
        ('{"cvc": 123}', '{"cvc": "***"}'),
        ("exp=12%2F30&cvc=123", "exp=12%2F30&cvc=***"),
        ("cvc=123&amount=5", "cvc=***&amount=5"),
        ("https://shop.test/pay?cvc=123&a=1", "https://shop.test/pay?cvc=***&a=1"),
        ('{"cvc":123} ?cvv=4567', '{"cvc":"***"} ?cvv=***'),
        ('{"CVC" : "1234"} x&cvc=123&cvv=4567', '{"CVC" : "***"} x&cvc=***&cvv=***'),
    ],
)
def test_redact_removes_the_security_code(text: str, redacted: str) -> None:
    assert redact(text) == redacted


def test_redact_keeps_json_valid_and_masks_the_card_too() -> None:
    body = json.dumps({"card": {"number": "4242424242424242", "cvc": 321}})
    data = json.loads(redact(body))
    assert data == {"card": {"number": "424242******4242", "cvc": "***"}}


# Pieces a text is made of: card numbers as people and forms write them, and what sits
# around them in pages, ids and query strings (letters, "_" and "*" glued to digits,
# separators, escapes, other scripts' digits, which the pattern counts as digits too).
_CARD_FORMS = [
    *(card.number for card in TEST_CARDS),
    "378282246310005",
    "5555555555554444",
    "4242 4242 4242 4242",
    "4242+4242+4242+4242",
    "4242-4242-4242-4242",
    "4242%204242%204242%204242",
    "42424242424242424242",
    "1234567890123",
]
_TEXT_PIECES = st.one_of(
    st.sampled_from(_CARD_FORMS),
    st.lists(st.sampled_from([*'0123456789 +-%*_aZcCvV.<>&?=:"\n', "%20", "\u0663", "é"])).map(
        "".join
    ),
    st.sampled_from(["cvc=", "CVV=", "&cvc=", "?cvv=", '"cvc":', '"Cvv2" : ', "123", "4567"]),
)
_TEXTS = st.lists(_TEXT_PIECES, max_size=12).map("".join)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(text=_TEXTS)
def test_mask_text_finds_what_the_pattern_finds_in_the_whole_text(text: str) -> None:
    # mask_text runs the pattern only where digits cluster; it must mask exactly what
    # running it over the whole text masks.
    assert mask_text(text) == cards._PAN_RUN.sub(cards._mask, text)


@settings(max_examples=1000, derandomize=True, database=None, deadline=None)
@given(text=_TEXTS)
def test_redact_masks_and_hides_what_the_patterns_find_in_the_whole_text(text: str) -> None:
    masked = cards._PAN_RUN.sub(cards._mask, text)
    hidden = cards._CVC_JSON.sub(cards._hides_cvc_json, masked)
    assert redact(text) == cards._CVC_FORM.sub(cards._hides_cvc_form, hidden)


def test_mask_text_masks_every_test_card_a_page_lists() -> None:
    items = "".join(f"<li><code>{card.number}</code> {card.label}</li>" for card in TEST_CARDS)
    page = f"<form><input name='form_token' value='x9'>{items}<p>34rem 1999 #222</p></form>"
    masked = mask_text(page)
    for card in TEST_CARDS:
        assert card.number not in masked
        assert f"<code>{mask_pan(card.number)}</code> {card.label}" in masked
    assert masked.endswith("<p>34rem 1999 #222</p></form>")


# -- ISO 8583 --------------------------------------------------------------------------

_ISO_FIELDS = st.fixed_dictionaries(
    {
        "t": st.sampled_from(sorted(iso.MTI_NAMES)),
        "2": st.sampled_from([card.number for card in TEST_CARDS] + ["378282246310005"]),
        "4": st.integers(0, 10**12 - 1).map("{:012d}".format),
        "11": st.integers(0, 999_999).map("{:06d}".format),
    },
    optional={
        "3": st.just("000000"),
        "7": st.just("1126192648"),
        "37": st.integers(0, 10**12 - 1).map("{:012d}".format),
        "38": st.text("ABC0123456789", min_size=6, max_size=6),
        "39": st.sampled_from(sorted(RESPONSE_CODES)),
        "41": st.just("PAYVIZ01"),
        "42": st.text("abc_ 0123456789", min_size=15, max_size=15),
        "49": st.sampled_from(["840", "978"]),
    },
)


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(fields=_ISO_FIELDS)
def test_the_trace_reads_what_the_decoder_reads(fields: dict[str, str]) -> None:
    raw = iso.encode(fields)
    read, _ = iso8583.decode(bytearray(raw), iso.SPEC)
    assert iso.recorded_fields(raw) == read == iso.decode(raw)
    assert list(iso.recorded_fields(raw)) == list(read), "fields in the decoder's order"


def test_the_receiver_decodes_the_bytes_it_got() -> None:
    raw = iso.encode({"t": "0100", "2": "4242424242424242", "4": "000000001999"})
    changed = raw.replace(b"000000001999", b"000000000001")
    assert iso.recorded_fields(changed)["4"] == "000000000001", "changed bytes read as they are"
    assert iso.decode(changed)["4"] == "000000000001"


def test_recorded_fields_belong_to_the_caller() -> None:
    raw = iso.encode({"t": "0100", "2": "4242424242424242", "4": "000000001999"})
    first = iso.recorded_fields(raw)
    first["39"] = "05"
    first["4"] = "000000000001"
    assert iso.recorded_fields(raw) == {
        "t": "0100",
        "p": "5000000000000000",
        "2": "4242424242424242",
        "4": "000000001999",
    }


# -- money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("12.34", "USD", 1234),
        ("19.99", "usd", 1999),
        ("0.01", "EUR", 1),
        ("500", "JPY", 500),
        (Decimal("7.5"), "GBP", 750),
        ("999999999.99", "USD", MAX_AMOUNT_MINOR),
    ],
)
def test_to_minor(amount: str, code: str, minor: int) -> None:
    assert to_minor(amount, code) == minor


@pytest.mark.parametrize(
    ("amount", "code", "reason"),
    [
        ("-19.99", "USD", "positive"),
        ("0", "USD", "positive"),
        ("0.00", "EUR", "positive"),
        ("abc", "USD", "not a number"),
        ("NaN", "USD", "not a number"),
        ("Infinity", "USD", "not a number"),
        ("1.234", "USD", "at most 2 decimals"),
        ("1.5", "JPY", "at most 0 decimals"),
        ("1000000000.00", "USD", "too large"),
        ("10", "XYZ", "unknown currency"),
    ],
)
def test_to_minor_refuses(amount: str, code: str, reason: str) -> None:
    with pytest.raises(AmountError, match=reason):
        to_minor(amount, code)


def test_format_minor() -> None:
    assert format_minor(123456, "USD") == "1,234.56 USD"
    assert format_minor(500, "JPY") == "500 JPY"


# -- signed notifications --------------------------------------------------------------

BODY = '{"type":"payment.succeeded","data":{"order_id":"ord_1"}}'


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


def _sleeper(
    clock: VirtualClock, woke: list[tuple[str, float]]
) -> Callable[[str, float], Awaitable[None]]:
    """A task body that sleeps on `clock`, then notes its name and the virtual time."""

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now() - START))

    return sleeper


@pytest.fixture
def secret() -> str:
    return new_secret()


def test_new_secret_is_whsec_with_at_least_24_bytes(secret: str) -> None:
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24


def test_verifier_accepts_a_valid_signature(secret: str, clock: VirtualClock) -> None:
    headers = Signer(secret, clock).headers("msg_1", BODY)
    assert headers["webhook-signature"].startswith("v1,")
    assert Verifier(secret, clock).verify(BODY, headers) == "msg_1"


def test_verifier_accepts_up_to_300_seconds(secret: str, clock: VirtualClock) -> None:
    headers = Signer(secret, clock).headers("msg_1", BODY)
    clock.advance(300)
    assert Verifier(secret, clock).verify(BODY, headers) == "msg_1"


def test_verifier_refuses_a_tampered_body(secret: str, clock: VirtualClock) -> None:
    headers = Signer(secret, clock).headers("msg_1", BODY)
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        Verifier(secret, clock).verify(BODY.replace("succeeded", "failed"), headers)


def test_verifier_refuses_a_changed_id(secret: str, clock: VirtualClock) -> None:
    headers = {**Signer(secret, clock).headers("msg_1", BODY), "webhook-id": "msg_2"}
    with pytest.raises(SignatureError, match="no webhook-signature matches"):
        Verifier(secret, clock).verify(BODY, headers)


def test_verifier_refuses_301_seconds_old(secret: str, clock: VirtualClock) -> None:
    headers = Signer(secret, clock).headers("msg_1", BODY)
    clock.advance(301)
    with pytest.raises(SignatureError, match="301 s old"):
        Verifier(secret, clock).verify(BODY, headers)


def test_verifier_refuses_a_timestamp_from_the_future(secret: str, clock: VirtualClock) -> None:
    headers = Signer(secret, VirtualClock(start=START + 301)).headers("msg_1", BODY)
    with pytest.raises(SignatureError, match="in the future"):
        Verifier(secret, clock).verify(BODY, headers)


def test_verifier_accepts_any_signature_of_a_rotated_list(clock: VirtualClock) -> None:
    old, new = new_secret(), new_secret()
    by_old = Signer(old, clock).headers("msg_1", BODY)
    by_new = Signer(new, clock).headers("msg_1", BODY)
    rotated = {
        **by_new,
        "webhook-signature": " ".join(
            [
                "v2,ignored",
                "v1,!!not-base64!!",
                by_old["webhook-signature"],
                by_new["webhook-signature"],
            ]
        ),
    }
    assert Verifier(old, clock).verify(BODY, rotated) == "msg_1"
    assert Verifier(new, clock).verify(BODY, rotated) == "msg_1"
    with pytest.raises(SignatureError):
        Verifier(new_secret(), clock).verify(BODY, rotated)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verifier_refuses_missing_headers(secret: str, clock: VirtualClock, missing: str) -> None:
    headers = Signer(secret, clock).headers("msg_1", BODY)
    del headers[missing]
    with pytest.raises(SignatureError, match="missing"):
        Verifier(secret, clock).verify(BODY, headers)


def test_verifier_refuses_a_timestamp_that_is_not_a_number(
    secret: str, clock: VirtualClock
) -> None:
    headers = {**Signer(secret, clock).headers("msg_1", BODY), "webhook-timestamp": "soon"}
    with pytest.raises(SignatureError, match="not a Unix time"):
        Verifier(secret, clock).verify(BODY, headers)


def test_signatures_verify_with_the_standardwebhooks_package(secret: str) -> None:
    headers = Signer(secret, VirtualClock()).headers("msg_1", BODY)  # now, for its clock
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


# -- JWE -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return KeyPair.generate()


CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def test_a_pair_made_here_and_the_same_pair_read_from_its_pem_open_the_same_tokens(
    keys: KeyPair,
) -> None:
    # A generated pair keeps its key object (no PEM read back, no key check holding the
    # GIL); a key log gives the PEM alone, read and checked.
    assert keys.private_key is not None
    from_log = KeyPair(keys.kid, keys.private_pem, keys.public_pem)
    assert from_log == keys
    assert from_log.private_key is None
    token = Encrypter(keys.kid, keys.public_pem).seal(CARD)
    assert Decrypter(keys).open(token) == Decrypter(from_log).open(token) == CARD
    other = KeyPair.generate()
    with pytest.raises(JweError):
        Decrypter(KeyPair(keys.kid, other.private_pem, other.public_pem)).open(token)


def test_jwe_round_trip(keys: KeyPair) -> None:
    token = Encrypter(keys.kid, keys.public_pem).seal(CARD)
    header = protected_header(token)
    assert (header["alg"], header["enc"], header["kid"]) == ("RSA-OAEP-256", "A256GCM", keys.kid)
    assert "4242" not in token
    assert Decrypter(keys).open(token) == CARD


def _flip(token: str, part: int) -> str:
    parts = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(parts)


@pytest.mark.parametrize("part", [1, 2, 3, 4], ids=["encrypted-key", "iv", "ciphertext", "tag"])
def test_a_flipped_byte_anywhere_fails_decryption(keys: KeyPair, part: int) -> None:
    token = Encrypter(keys.kid, keys.public_pem).seal(CARD)
    with pytest.raises(JweError):
        Decrypter(keys).open(_flip(token, part))


def test_a_changed_protected_header_fails_decryption(keys: KeyPair) -> None:
    """The header is authenticated too (it is the GCM additional data)."""
    token = Encrypter(keys.kid, keys.public_pem).seal(CARD)
    header, *rest = token.split(".")
    changed = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    changed["cty"] = "application/jsoN"
    encoded = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    with pytest.raises(JweError):
        Decrypter(keys).open(".".join([encoded, *rest]))


def test_a_token_for_another_key_is_refused(keys: KeyPair) -> None:
    other = KeyPair.generate()
    token = Encrypter(other.kid, other.public_pem).seal(CARD)
    with pytest.raises(JweError, match="not this processor's key"):
        Decrypter(keys).open(token)


@pytest.mark.parametrize("token", ["", "a.b.c", "not-a-jwe", "e30.a.b.c.d", "!!.a.b.c.d"])
def test_garbage_is_refused_with_jwe_error(keys: KeyPair, token: str) -> None:
    with pytest.raises(JweError):
        Decrypter(keys).open(token)


# -- time ------------------------------------------------------------------------------


def test_virtual_sleep_advances_time_without_waiting(clock: VirtualClock) -> None:
    asyncio.run(clock.sleep(3600))
    assert clock.now() == START + 3600


def test_many_short_sleeps_add_up_to_the_microsecond(clock: VirtualClock) -> None:
    # A trace's times are the clock's, less its start, to the microsecond: ten 4 ms hops
    # are 0.04 s, not 0.039999 (a Unix time as a double steps by a quarter microsecond).
    async def hops() -> list[float]:
        times = []
        for _ in range(250):
            await clock.sleep(0.004)
            times.append(round(clock.now() - START, 6))
        return times

    times = asyncio.run(hops())
    assert times[9] == 0.04
    assert times == [round(0.004 * (hop + 1), 6) for hop in range(250)]


def test_virtual_sleepers_wake_in_the_order_of_their_deadlines(clock: VirtualClock) -> None:
    woke: list[tuple[str, float]] = []
    sleeper = _sleeper(clock, woke)

    async def main() -> None:
        await asyncio.gather(sleeper("late", 300), sleeper("soon", 5), sleeper("mid", 30))

    asyncio.run(main())
    assert woke == [("soon", 5), ("mid", 30), ("late", 300)]


@pytest.mark.parametrize("far_sleeper", [False, True], ids=["alone", "jump-pending"])
def test_virtual_time_stands_still_while_other_work_is_ready(
    clock: VirtualClock, far_sleeper: bool
) -> None:
    seen: list[float] = []

    async def busy() -> None:
        for _ in range(3):
            seen.append(clock.now() - START)
            await asyncio.sleep(0)

    async def main() -> float:
        far = asyncio.create_task(clock.sleep(100)) if far_sleeper else None
        await asyncio.sleep(0)  # with a far sleeper, a jump is pending for it
        worker = asyncio.create_task(busy())
        await asyncio.sleep(0)  # the worker has started and yielded
        await clock.sleep(5)
        await worker
        if far is not None:
            far.cancel()
        return clock.now() - START

    assert asyncio.run(main()) == 5
    assert seen == [0, 0, 0], "the clock jumped while a task still had work to do"


def test_sleepers_beside_a_far_one_wake_in_order(clock: VirtualClock) -> None:
    woke: list[tuple[str, float]] = []
    sleeper = _sleeper(clock, woke)

    async def main() -> None:
        far = asyncio.create_task(sleeper("far", 100))
        await asyncio.sleep(0)  # "far" waits on the clock: a jump is pending
        for step in range(3):
            await sleeper(f"hop {step}", 4)
        await sleeper("past far", 200)
        await far

    asyncio.run(main())
    assert woke == [("hop 0", 4), ("hop 1", 8), ("hop 2", 12), ("far", 100), ("past far", 212)]


def test_a_lone_sleeper_after_a_race_still_wakes_in_order(clock: VirtualClock) -> None:
    woke: list[tuple[str, float]] = []
    sleeper = _sleeper(clock, woke)

    async def main() -> None:
        early = asyncio.create_task(sleeper("early", 10))
        await asyncio.sleep(0)  # "early" waits on the clock now
        await sleeper("later", 20)
        await early
        await sleeper("alone", 1)

    asyncio.run(main())
    assert woke == [("early", 10), ("later", 20), ("alone", 21)]


def test_virtual_time_only_moves_forward(clock: VirtualClock) -> None:
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_within_raises_deadline_exceeded_when_the_work_takes_too_long(
    clock: VirtualClock,
) -> None:
    async def slow_answer() -> str:
        await clock.sleep(35)
        return "too late"

    with pytest.raises(DeadlineExceeded) as late:
        asyncio.run(clock.within(slow_answer(), 10))
    assert late.value.timeout == 10
    assert clock.now() == START + 10, "the caller's timer fired first; the answer never came"
    assert "no answer within 10 s" in str(late.value)


def test_within_returns_an_answer_in_time(clock: VirtualClock) -> None:
    async def answer() -> str:
        await clock.sleep(10)
        return "00"

    assert asyncio.run(clock.within(answer(), 10)) == "00"


# -- the scripted browser's reading of a page ----------------------------------------------


def test_a_page_is_read_for_its_forms_and_the_text_of_its_ids() -> None:
    from payviz.engine.actors.browser import Form, read_html

    page = (
        "<!doctype html><p id=lead>Pay <!-- note --><b id=sum>19.99</b></p>"
        "<input name=outside value=1><FORM METHOD=Post ACTION=/pay><input name=card>"
        "<input id=bare><input name='' value=x><input name=exp value='12/30'></FORM>"
        "<form><input name=q></form><p id=tail>again</p>"
    )
    forms, ids = read_html(page)
    assert forms == [Form("/pay", "post", {"card": "", "exp": "12/30"}), Form("", "get", {"q": ""})]
    # an element's text is its own and its children's, a comment's left out
    assert ids == {"lead": "Pay 19.99", "sum": "19.99", "bare": "", "tail": "again"}
    # an id given twice: the later element's text
    assert read_html("<p id=a>one</p><p id=a>two</p>")[1] == {"a": "two"}
    for nothing in ("", "   ", "<!-- only a comment -->"):
        assert read_html(nothing) == ([], {})
