"""chromeguard.aio: awaits never block the loop, cancellation frees the work, and an ASGI app
scrapes in its handlers under concurrent requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

import chromeguard
from chromeguard import aio

from ._site import Site


@pytest.fixture
def pool() -> Iterator[chromeguard.BrowserPool]:
    with chromeguard.BrowserPool(size=2) as running:
        yield running


def settled(pool: chromeguard.BrowserPool, limit: float = 1.0) -> bool:
    """Whether, within `limit` seconds, nothing runs and no context is left beyond spares."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = pool.stats()
        if stats["in_use"] == 0 and stats["contexts"] == stats["spare_pages"]:
            return True
        time.sleep(0.02)
    return False


def test_scrape_and_scrape_many(pool: chromeguard.BrowserPool, site: Site) -> None:
    async def main() -> None:
        result = await aio.scrape(site.url("/downloads.html"), pool=pool)
        assert any(d.url.endswith("app-1.2.3.apk") for d in result.downloads)
        many = await aio.scrape_many(
            [site.url("/about.html"), "ftp://x", site.url("/index.html")], pool=pool
        )
        assert isinstance(many[0], chromeguard.ScrapeResult) and many[0].title == "About us"
        assert isinstance(many[1], chromeguard.InvalidUrlError)
        assert isinstance(many[2], chromeguard.ScrapeResult)

    asyncio.run(main())


def test_awaits_do_not_block_the_loop(pool: chromeguard.BrowserPool, site: Site) -> None:
    async def main() -> int:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        await aio.scrape(site.url("/slow?s=0.5"), pool=pool)
        done.set()
        await task
        return ticks

    assert asyncio.run(main()) > 20, "the loop kept running while the scrape waited"


def test_cancelling_a_scrape_frees_its_context(pool: chromeguard.BrowserPool, site: Site) -> None:
    async def main() -> None:
        task = asyncio.create_task(aio.scrape(site.url("/slow?s=20"), pool=pool, timeout=30))
        while pool.stats()["in_use"] == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert settled(pool), pool.stats()
    assert pool.scrape(site.url("/about.html")).title == "About us"


def test_async_browser(site: Site) -> None:
    async def main() -> None:
        async with await aio.create_browser() as browser:
            await browser.get(site.url("/form.html"))
            assert await browser.title() == "Form"
            assert await browser.execute_script("return 1 + 1") == 2
            heading = await browser.find_element(chromeguard.By.ID, "heading")
            assert heading.text == "Sign in"
            slow = asyncio.create_task(browser.get(site.url("/slow?s=20")))
            await asyncio.sleep(0.3)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            await browser.get(site.url("/about.html"))
            assert await browser.current_url() == site.url("/about.html")

    asyncio.run(main())


def test_asgi_app_scrapes_under_concurrent_requests(
    pool: chromeguard.BrowserPool, site: Site
) -> None:
    httpx = pytest.importorskip("httpx")
    starlette_app = pytest.importorskip("starlette.applications")
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def downloads(request: Request) -> JSONResponse:
        result = await aio.scrape(request.query_params["url"], pool=pool)
        return JSONResponse({"title": result.title, "downloads": [d.url for d in result.downloads]})

    app = starlette_app.Starlette(routes=[Route("/downloads", downloads)])

    async def main() -> list[dict[str, object]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            pages = ["/downloads.html", "/index.html", "/about.html", "/network.html"] * 2
            responses = await asyncio.gather(
                *(client.get("/downloads", params={"url": site.url(p)}) for p in pages)
            )
        assert all(r.status_code == 200 for r in responses)
        return [r.json() for r in responses]

    bodies = asyncio.run(main())
    assert bodies[0]["title"] == "Every kind of download"
    assert bodies[2] == {"title": "About us", "downloads": []}
    assert bodies[0] == bodies[4]
