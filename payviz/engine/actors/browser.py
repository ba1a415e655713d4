"""A scripted browser: a cookie jar, HTML forms, and every redirect followed as its own hop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
from lxml import etree

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 10
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) scripted-browser"


@dataclass(slots=True)
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Page:
    """A loaded page: where it came from, its status and what is on it."""

    url: str
    status: int
    html: str
    forms: list[Form]
    ids: dict[str, str]

    def text(self, element_id: str) -> str:
        return self.ids.get(element_id, "").strip()


# libxml2's HTML parser as lxml.html sets it up, less lxml.html's element classes: the
# page is only read here, and plain elements cost less to walk.
_PARSER = etree.HTMLParser()


def read_html(text: str) -> tuple[list[Form], dict[str, str]]:
    """The forms of a page (action, method, named inputs) and the text of each element with
    an id, read with libxml2's forgiving HTML parser as a browser reads a page."""
    forms: list[Form] = []
    ids: dict[str, str] = {}
    if not text.strip():
        return forms, ids
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.LxmlError, ValueError):
        return forms, ids
    if root is None:  # what lxml.html calls an empty document
        return forms, ids
    # Every element in document order, in one walk: a form, a named input and an element
    # with an id are what is read; anything else passes through the tests below untouched.
    for element in root.iter(etree.Element):
        tag = element.tag
        if tag == "form":
            method = (element.get("method") or "get").lower()
            forms.append(Form(element.get("action") or "", method))
        elif tag == "input" and forms:
            name = element.get("name")
            if name:
                forms[-1].fields[name] = element.get("value") or ""
        element_id = element.get("id")
        if element_id is not None:
            ids[element_id] = "".join(element.itertext())
    return forms, ids


def parse_page(response: httpx.Response) -> Page:
    text = response.text
    forms, ids = read_html(text) if "html" in response.headers.get("content-type", "") else ([], {})
    return Page(str(response.url), response.status_code, text, forms, ids)


Pause = Callable[[], Awaitable[None]]


def failed_page(url: str, problem: str) -> Page:
    """What a browser shows when the connection fails: no status, no forms."""
    return Page(url, 0, "", [], {"browser-error": problem})


class ScriptedBrowser:
    """Does what a customer's browser does, through the capturing network client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.client.headers["user-agent"] = USER_AGENT

    async def _get(self, url: str, **kwargs: Any) -> httpx.Response | Page:
        """A page load; a browser that cannot connect shows an error page (after one
        reload, as a person would press F5)."""
        for _ in range(2):
            try:
                return await self.client.get(url, **kwargs)
            except httpx.TransportError as exc:
                problem = f"{exc.__class__.__name__}: {exc}"
        return failed_page(url, problem)

    async def _follow(self, response: httpx.Response | Page, pause: Pause | None) -> Page:
        hops = 0
        while (
            isinstance(response, httpx.Response)
            and response.status_code in REDIRECTS
            and hops < MAX_HOPS
        ):
            location = urljoin(str(response.url), response.headers["location"])
            if pause is not None:
                await pause()
            response = await self._get(location)
            hops += 1
        return response if isinstance(response, Page) else parse_page(response)

    async def open(self, url: str, pause: Pause | None = None) -> Page:
        return await self._follow(await self._get(url), pause)

    async def submit(
        self,
        page: Page,
        values: dict[str, str],
        pause: Pause | None = None,
        index: int = 0,
        *,
        follow: bool = True,
    ) -> Page:
        """Fill the page's form and submit it as a browser would (url-encoded).

        A form post is never resent by itself: if the connection fails, the customer sees
        an error page and the shop has to find out what happened.
        """
        form = page.forms[index]
        data = {**form.fields, **values}
        target = urljoin(page.url, form.action or page.url)
        response: httpx.Response | Page
        if form.method == "post":
            try:
                response = await self.client.post(
                    target,
                    content=urlencode(data),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            except httpx.TransportError as exc:
                return failed_page(target, f"{exc.__class__.__name__}: {exc}")
        else:
            response = await self._get(target, params=data)
        if not follow:
            return response if isinstance(response, Page) else parse_page(response)
        return await self._follow(response, pause)
