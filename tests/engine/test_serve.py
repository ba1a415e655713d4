"""`payviz serve` as a user runs it: a process, HTTPS on loopback, a browser, Ctrl-C.

The client here knows only what a browser knows: the shop URL and the CA certificate printed
on stdout. It follows links, redirects (one hop at a time) and HTML forms; it never calls
into payviz. Afterwards the trace file must show every request it made.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.loopback

START_SECONDS = 60.0
STOP_SECONDS = 20.0
MAX_REDIRECTS = 10
APPROVED_CARD = "4242424242424242"


# -- the process ---------------------------------------------------------------------------


class Lines:
    """A process's stdout, one line at a time, each read with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, prefix: str, deadline: float) -> str:
        """The first line starting with `prefix`; fails at end of output or at the deadline."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {prefix!r} line in time; got {self.seen}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended without {prefix!r}; got {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def rest(self, timeout: float) -> list[str]:
        """Every remaining line until end of output (the process has exited)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
        return self.seen


@dataclass
class Served:
    process: subprocess.Popen[str]
    stdout: Lines
    shop: str
    ca_file: str
    trace: Path
    keylog: Path

    def stop(self) -> int:
        """Ctrl-C, as a person would press it; the exit status, within a bounded time."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_SECONDS)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(mode: str) -> Served:
        trace, keylog = tmp_path / f"{mode}.jsonl", tmp_path / f"{mode}-keys.json"
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "payviz.cli", "serve", "--mode", mode),
                *("--trace", str(trace), "--keylog", str(keylog)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        started.append(process)
        assert process.stdout is not None
        lines = Lines(process.stdout)
        deadline = time.monotonic() + START_SECONDS
        ca_file = lines.until("CA certificate:", deadline).split(":", 1)[1].strip()
        shop = lines.until("Shop:", deadline).split(":", 1)[1].strip()
        return Served(process, lines, shop, ca_file, trace, keylog)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


# -- a browser -----------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class Parsed(HTMLParser):
    """Forms (with their inputs' default values) and the text of elements with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.ids: dict[str, str] = {}
        self.refresh: str | None = None
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and a.get("name") and self.forms:
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            _, _, target = a.get("content", "").partition("url=")
            self.refresh = target or None
        if "id" in a:
            self._open.append(a["id"])
            self.ids[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in ("input", "meta"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element in self._open:
            self.ids[element] += data


@dataclass
class Page:
    url: str
    status: int
    html: str

    @property
    def parsed(self) -> Parsed:
        return Parsed(self.html)


class Browser:
    """Only what a browser does: GET a URL, follow each redirect as its own request, submit
    a page's form. Every request it sends is remembered as (method, URL)."""

    def __init__(self, ca_file: str) -> None:
        self.sent: list[tuple[str, str]] = []
        self.client = httpx.Client(
            verify=ssl.create_default_context(cafile=ca_file),
            follow_redirects=False,
            timeout=30.0,
            headers={"user-agent": "Mozilla/5.0 (payviz test browser)"},
            event_hooks={"request": [lambda r: self.sent.append((r.method, str(r.url)))]},
        )

    def _follow(self, response: httpx.Response) -> Page:
        for _ in range(MAX_REDIRECTS):
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            response = self.client.get(urljoin(str(response.url), response.headers["location"]))
        else:
            raise AssertionError(f"more than {MAX_REDIRECTS} redirects")
        return Page(str(response.url), response.status_code, response.text)

    def open(self, url: str) -> Page:
        return self._follow(self.client.get(url))

    def submit(self, page: Page, values: dict[str, str] | None = None) -> Page:
        (form,) = page.parsed.forms
        data = {**form.fields, **(values or {})}
        target = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return self._follow(self.client.post(target, data=data))
        return self._follow(self.client.get(target, params=data))

    def settle(self, page: Page) -> Page:
        """A page that refreshes itself is reloaded, as its meta refresh asks (bounded)."""
        for _ in range(MAX_REDIRECTS):
            target = page.parsed.refresh
            if target is None:
                return page
            page = self.open(urljoin(page.url, target))
        return page

    def close(self) -> None:
        self.client.close()


def card(number: str = APPROVED_CARD) -> dict[str, str]:
    return {"card_number": number, "exp": "12/30", "cvc": "123"}


# -- the trace file ------------------------------------------------------------------------


def read_trace(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert lines, "empty trace file"
    assert lines[0]["type"] == "header"
    assert lines[0]["generator"] == "payviz"
    assert all(line["type"] in ("message", "state") for line in lines[1:])
    return lines[1:]


def browser_requests(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (r["method"], urlsplit(r["url"]).path)
        for r in records
        if r["type"] == "message" and r["direction"] == "request" and r["src"] == "browser"
    ]


def check_trace(served: Served, sent: list[tuple[str, str]]) -> list[dict[str, Any]]:
    records = read_trace(served.trace)
    recorded = browser_requests(records)
    hops = [(method, urlsplit(url).path) for method, url in sent]
    # Each request the browser made is in the trace, in the order it was made.
    position = 0
    for hop in hops:
        assert hop in recorded[position:], (hop, recorded)
        position = recorded.index(hop, position) + 1
    assert len(recorded) == len(hops), (recorded, hops)

    iso = [
        (r["src"], r["dst"], r["mti"], r["fields"].get("39"))
        for r in records
        if r["type"] == "message" and r["protocol"] == "iso8583"
    ]
    assert iso == [
        ("processor", "bank", "0100", None),
        ("bank", "processor", "0110", "00"),
        ("processor", "bank", "0220", None),
        ("bank", "processor", "0230", "00"),
    ]
    # The card is masked in the file the user keeps.
    assert APPROVED_CARD not in served.trace.read_text(encoding="utf-8")
    return records


def final_page_says_paid(page: Page) -> None:
    parsed = page.parsed
    assert page.status == 200, page.html
    assert parsed.ids.get("order-status", "").strip() == "paid", page.html
    assert "payment went through" in page.html


# -- the tests -----------------------------------------------------------------------------


def test_hosted_checkout_through_a_browser(serve: Any) -> None:
    served: Served = serve("redirect")
    browser = Browser(served.ca_file)
    try:
        shop = browser.open(served.shop)
        checkout = browser.submit(shop)
        assert "card_number" not in checkout.parsed.forms[0].fields  # no card at the shop
        hosted = browser.submit(checkout)
        # Redirected to the processor's own site, where the card is typed.
        assert urlsplit(hosted.url).netloc != urlsplit(served.shop).netloc
        assert urlsplit(hosted.url).path.startswith("/pay/")
        assert {"card_number", "exp", "cvc"} <= set(hosted.parsed.forms[0].fields)
        done = browser.settle(browser.submit(hosted, card()))
        # ... and back at the shop, on the order's page.
        assert urlsplit(done.url).netloc == urlsplit(served.shop).netloc
        final_page_says_paid(done)
        ca_pem = Path(served.ca_file).read_text(encoding="utf-8")
    finally:
        browser.close()

    assert served.stop() == 0
    assert served.stdout.rest(STOP_SECONDS)[-1].startswith("stopped after")
    records = check_trace(served, browser.sent)
    paths = [path for _, path in browser_requests(records)]
    assert "/return" in paths
    notified = [
        r
        for r in records
        if r["type"] == "message"
        and r["direction"] == "request"
        and (r["src"], r["dst"]) == ("processor", "merchant")
        and r["kind"] == "notification"
    ]
    assert len(notified) == 1
    keylog = json.loads(served.keylog.read_text(encoding="utf-8"))
    assert keylog["ca_cert_pem"] == ca_pem
    assert set(keylog["webhook_secrets"]) >= {"merchant"}


def test_direct_checkout_through_a_browser(serve: Any) -> None:
    served: Served = serve("direct")
    browser = Browser(served.ca_file)
    try:
        shop = browser.open(served.shop)
        checkout = browser.submit(shop)
        # The shop's own card form: the card goes to the merchant.
        assert {"card_number", "exp", "cvc"} <= set(checkout.parsed.forms[0].fields)
        done = browser.settle(browser.submit(checkout, card()))
        assert {urlsplit(url).netloc for _, url in browser.sent} == {urlsplit(served.shop).netloc}
        final_page_says_paid(done)
    finally:
        browser.close()

    assert served.stop() == 0
    records = check_trace(served, browser.sent)
    links = {
        (r["src"], r["dst"])
        for r in records
        if r["type"] == "message" and r["direction"] == "request"
    }
    assert {("merchant", "gateway"), ("gateway", "processor")} <= links
