"""Hypothesis over URLs, options and selectors of the public API: only documented exceptions,
never a crash or a hang. (The URL policy and filename parsing are also fuzzed in Rust with
proptest: src/url_policy.rs, src/downloads.rs.)"""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

import chromeguard
from chromeguard import _native
from chromeguard import exceptions as exc
from chromeguard.config import OPTION_NAMES

from ._site import Site

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
    st.tuples(st.integers(), st.integers()),
)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_url_policy_accepts_only_web_urls(raw: str) -> None:
    try:
        url = _native.check_url(raw, False, False)
    except chromeguard.InvalidUrlError:
        return
    assert url.startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(OPTION_NAMES), ANY_VALUE, max_size=4))
def test_config_accepts_or_raises_config_error(options: dict[str, object]) -> None:
    with contextlib.suppress(chromeguard.ConfigError):
        chromeguard.Config(**options)  # type: ignore[arg-type]


def test_scrape_options_urls_and_selectors(site: Site) -> None:
    documented = (
        chromeguard.ConfigError,
        chromeguard.ScrapeTimeout,
        chromeguard.NavigationError,
        chromeguard.InvalidUrlError,
    )
    with chromeguard.BrowserPool(size=2) as pool:

        @settings(max_examples=25, deadline=None)
        @given(
            wait_until=st.one_of(
                st.sampled_from(["load", "domcontentloaded", "networkidle"]), st.text(max_size=8)
            ),
            timeout=st.one_of(st.none(), st.floats(min_value=-1, max_value=5)),
            settle=st.one_of(st.none(), st.floats(min_value=-1, max_value=0.5)),
            extensions=st.one_of(st.none(), st.lists(st.text(max_size=6), max_size=3)),
            headers=st.one_of(
                st.none(), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2)
            ),
            wait_for=st.one_of(st.none(), st.text(max_size=12)),
        )
        def options(**kwargs: object) -> None:
            if kwargs["wait_for"] is not None:
                kwargs["timeout"] = 1.0
            try:
                result = pool.scrape(site.url("/downloads.html"), **kwargs)
            except documented:
                return
            assert result.status == 200

        options()

        @settings(max_examples=25, deadline=None)
        @given(st.text(max_size=40))
        def paths(path: str) -> None:
            try:
                result = pool.scrape(site.url("/" + quote(path)), timeout=5)
            except documented:
                return
            assert result.status is None or 100 <= result.status < 600

        paths()
        assert pool.stats()["in_use"] == 0


def test_locators(site: Site) -> None:
    with chromeguard.create_browser() as browser:
        browser.get(site.url("/form.html"))

        @settings(max_examples=100, deadline=None)
        @given(
            by=st.sampled_from(
                [
                    "css selector",
                    "xpath",
                    "id",
                    "name",
                    "tag name",
                    "class name",
                    "link text",
                    "partial link text",
                ]
            ),
            value=st.text(max_size=20),
        )
        def locate(by: str, value: str) -> None:
            try:
                found = browser.find_elements(by, value)
            except (exc.InvalidSelectorException, exc.InvalidArgumentException):
                return
            assert all(isinstance(e, chromeguard.WebElement) for e in found)

        locate()
        assert browser.title == "Form"
