"""The Selenium-shaped Browser: locators, elements, scripts, waits, navigation, windows,
frames, cookies, screenshots and logins, with Selenium's semantics and exception names."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import chromeguard
from chromeguard import By, Keys, WebElement
from chromeguard import exceptions as exc
from chromeguard.support import expected_conditions as EC
from chromeguard.support.ui import WebDriverWait

from ._site import Site


@pytest.fixture
def browser(site: Site) -> Iterator[chromeguard.Browser]:
    with chromeguard.create_browser() as running:
        running.get(site.url("/form.html"))
        yield running


def test_by_has_seleniums_values() -> None:
    selenium_by = pytest.importorskip("selenium.webdriver.common.by").By
    for name in (
        "ID",
        "XPATH",
        "LINK_TEXT",
        "PARTIAL_LINK_TEXT",
        "NAME",
        "TAG_NAME",
        "CLASS_NAME",
        "CSS_SELECTOR",
    ):
        assert getattr(By, name) == getattr(selenium_by, name)


def test_every_locator_strategy(browser: chromeguard.Browser) -> None:
    assert browser.find_element(By.ID, "heading").text == "Sign in"
    assert browser.find_element(By.CSS_SELECTOR, "h1.title").get_attribute("id") == "heading"
    assert browser.find_element(By.XPATH, "//h1[@id='heading']").tag_name == "h1"
    assert browser.find_element(By.NAME, "user").get_attribute("value") == "initial"
    assert [e.text for e in browser.find_elements(By.CLASS_NAME, "item")] == ["one", "two", "three"]
    assert len(browser.find_elements(By.TAG_NAME, "span")) == 3
    assert (
        browser.find_element(By.LINK_TEXT, "Read the documentation").get_attribute("id") == "docs"
    )
    assert browser.find_element(By.PARTIAL_LINK_TEXT, "Home").text == "Home page"
    nested = browser.find_element(By.ID, "list").find_elements(By.CSS_SELECTOR, "span")
    assert [e.text for e in nested] == ["one", "two", "three"]
    assert browser.find_elements(By.ID, "missing") == []
    with pytest.raises(exc.NoSuchElementException):
        browser.find_element(By.ID, "missing")
    with pytest.raises(exc.InvalidSelectorException):
        browser.find_element(By.CSS_SELECTOR, "a[")
    with pytest.raises(exc.InvalidSelectorException):
        browser.find_element(By.XPATH, "//*[")
    with pytest.raises(exc.InvalidArgumentException):
        browser.find_element("bogus", "x")


def test_element_properties(browser: chromeguard.Browser, site: Site) -> None:
    heading = browser.find_element(By.ID, "heading")
    assert heading.get_attribute("class") == "title big"
    assert heading.get_dom_attribute("class") == "title big"
    assert heading.get_property("className") == "title big"
    assert browser.find_element(By.ID, "docs").get_attribute("href") == site.url("/about.html")
    assert browser.find_element(By.ID, "docs").get_dom_attribute("href") == "/about.html"
    assert browser.find_element(By.ID, "remember").is_selected()
    assert browser.find_element(By.ID, "remember").get_attribute("checked") == "true"
    assert browser.find_element(By.ID, "off").get_attribute("checked") is None
    assert not browser.find_element(By.ID, "disabled").is_enabled()
    assert browser.find_element(By.CSS_SELECTOR, "option[value=b]").is_selected()
    hidden = browser.find_element(By.ID, "hidden")
    assert not hidden.is_displayed() and hidden.text == ""
    assert not browser.find_element(By.ID, "zero").is_displayed()
    assert heading.is_displayed()
    assert heading.rect["width"] > 0
    assert heading == browser.find_element(By.CSS_SELECTOR, "h1")
    assert heading.parent is browser


def test_click_type_clear_submit(browser: chromeguard.Browser, site: Site) -> None:
    counter = browser.find_element(By.ID, "counter")
    counter.click()
    counter.click()
    assert counter.text == "2"
    typed = browser.find_element(By.ID, "typed")
    typed.send_keys("hello ", "world", Keys.ENTER)
    assert browser.find_element(By.ID, "out").text == "enter:hello world"
    user = browser.find_element(By.ID, "user")
    user.clear()
    assert user.get_attribute("value") == ""
    user.send_keys("bob")
    assert user.get_property("value") == "bob"
    with pytest.raises(exc.ElementNotInteractableException):
        browser.find_element(By.ID, "hidden").click()
    with pytest.raises(exc.ElementNotInteractableException):
        browser.find_element(By.ID, "disabled").send_keys("x")
    with pytest.raises(NotImplementedError, match="special key"):
        user.send_keys("\ue031")
    user.submit()
    WebDriverWait(browser, 5).until(EC.url_contains("user=bob"))
    assert browser.current_url.startswith(site.url("/status/200?user=bob"))


def test_file_upload(browser: chromeguard.Browser, tmp_path: Path) -> None:
    upload = tmp_path / "report.txt"
    upload.write_text("data")
    browser.find_element(By.ID, "file").send_keys(str(upload))
    assert browser.find_element(By.ID, "out").text == "file:report.txt"
    with pytest.raises(exc.InvalidArgumentException):
        browser.find_element(By.ID, "file").send_keys(str(tmp_path / "missing.txt"))


def test_scripts_with_elements(browser: chromeguard.Browser) -> None:
    heading = browser.find_element(By.ID, "heading")
    assert browser.execute_script("return arguments[0].id", heading) == "heading"
    items = browser.execute_script("return document.querySelectorAll('.item')")
    assert all(isinstance(i, WebElement) for i in items) and items[2].text == "three"
    nested = browser.execute_script("return {first: document.querySelector('.item'), n: 3}")
    assert nested["first"].text == "one" and nested["n"] == 3
    assert browser.execute_script("return arguments[0].map(e => e.textContent)", items) == [
        "one",
        "two",
        "three",
    ]
    done = "const done = arguments[arguments.length - 1];"
    done += " setTimeout(() => done(arguments[0] * 2), 20);"
    assert browser.execute_async_script(done, 21) == 42
    browser.set_script_timeout(0.2)
    with pytest.raises(exc.TimeoutException):
        browser.execute_async_script("/* never calls back */")
    with pytest.raises(exc.JavascriptException, match="boom"):
        browser.execute_script("throw new Error('boom')")


def test_stale_elements(browser: chromeguard.Browser, site: Site) -> None:
    item = browser.find_element(By.CLASS_NAME, "item")
    browser.execute_script("arguments[0].remove()", item)
    with pytest.raises(exc.StaleElementReferenceException):
        _ = item.text
    heading = browser.find_element(By.ID, "heading")
    browser.get(site.url("/about.html"))
    with pytest.raises(exc.StaleElementReferenceException):
        heading.click()


def test_implicit_wait_watches_the_dom(browser: chromeguard.Browser) -> None:
    browser.find_element(By.ID, "later").click()
    with pytest.raises(exc.NoSuchElementException):
        browser.find_element(By.ID, "appeared")
    browser.implicitly_wait(5)
    assert browser.find_element(By.ID, "appeared").text == "here now"


def test_waits_and_expected_conditions(browser: chromeguard.Browser, site: Site) -> None:
    browser.find_element(By.ID, "later").click()
    wait = WebDriverWait(browser, 5)
    assert wait.until(EC.presence_of_element_located((By.ID, "appeared"))).text == "here now"
    assert len(wait.until(EC.presence_of_all_elements_located((By.CLASS_NAME, "item")))) == 3
    assert wait.until(EC.visibility_of_element_located((By.ID, "heading"))).tag_name == "h1"
    assert wait.until(EC.element_to_be_clickable((By.ID, "go"))).text == "Go"
    assert wait.until(EC.title_is("Changed"))
    assert wait.until(EC.title_contains("Chan"))
    assert wait.until(EC.text_to_be_present_in_element((By.ID, "appeared"), "now"))
    assert wait.until(EC.url_to_be(site.url("/form.html")))
    with pytest.raises(exc.TimeoutException):
        WebDriverWait(browser, 0.3).until(EC.presence_of_element_located((By.ID, "never")))
    with pytest.raises(exc.TimeoutException):
        WebDriverWait(browser, 0.3).until(EC.element_to_be_clickable((By.ID, "disabled")))
    assert WebDriverWait(browser, 1).until(lambda d: d.title == "Changed")


def test_seleniums_own_wait_and_exceptions_work_on_a_chromeguard_browser(
    browser: chromeguard.Browser,
) -> None:
    selenium_ui = pytest.importorskip("selenium.webdriver.support.ui")
    selenium_ec = pytest.importorskip("selenium.webdriver.support.expected_conditions")
    selenium_exc = pytest.importorskip("selenium.common.exceptions")
    from selenium.webdriver.common.by import By as SeleniumBy

    browser.find_element(SeleniumBy.ID, "later").click()
    found = selenium_ui.WebDriverWait(browser, 5).until(
        selenium_ec.presence_of_element_located((SeleniumBy.CSS_SELECTOR, "#appeared"))
    )
    assert found.text == "here now"
    with pytest.raises(selenium_exc.TimeoutException):
        selenium_ui.WebDriverWait(browser, 0.3, poll_frequency=0.05).until(
            selenium_ec.presence_of_element_located((SeleniumBy.ID, "never"))
        )
    with pytest.raises(selenium_exc.NoSuchElementException):
        browser.find_element(SeleniumBy.ID, "never")
    for name in (
        "WebDriverException",
        "NoSuchElementException",
        "TimeoutException",
        "StaleElementReferenceException",
        "ElementNotInteractableException",
        "JavascriptException",
        "InvalidArgumentException",
    ):
        ours = getattr(exc, name)
        assert issubclass(ours, getattr(selenium_exc, name)) and issubclass(
            ours, chromeguard.ChromeGuardError
        )


def test_history_and_refresh(browser: chromeguard.Browser, site: Site) -> None:
    browser.get(site.url("/about.html"))
    browser.back()
    assert browser.title == "Form"
    browser.forward()
    assert browser.title == "About us"
    browser.execute_script("document.title = 'edited'")
    browser.refresh()
    assert browser.title == "About us"
    browser.execute_script("history.pushState({}, '', '#section')")
    browser.back()
    assert browser.current_url == site.url("/about.html"), "same-document entries too"


def test_page_load_timeout(browser: chromeguard.Browser, site: Site) -> None:
    browser.set_page_load_timeout(0.5)
    with pytest.raises(exc.TimeoutException):
        browser.get(site.url("/slow?s=5"))


def test_windows(browser: chromeguard.Browser, site: Site) -> None:
    first = browser.current_window_handle
    assert browser.window_handles == [first]
    browser.execute_script("window.open('/index.html')")
    WebDriverWait(browser, 5).until(lambda d: len(d.window_handles) == 2)
    other = next(h for h in browser.window_handles if h != first)
    browser.switch_to.window(other)
    WebDriverWait(browser, 5).until(EC.title_is("Fixture home"))
    browser.close()
    assert browser.window_handles == [first]
    with pytest.raises(exc.NoSuchWindowException):
        _ = browser.title
    with pytest.raises(exc.NoSuchWindowException):
        browser.switch_to.window("no-such-handle")
    browser.switch_to.window(first)
    assert browser.title == "Form"
    browser.close()
    assert browser.closed, "closing the last window quits"


def test_frames(browser: chromeguard.Browser, site: Site) -> None:
    browser.get(site.url("/frames.html"))
    browser.switch_to.frame("inner")
    assert browser.find_element(By.ID, "text").text == "About page"
    assert browser.execute_script("return document.title") == "About us"
    link = browser.find_element(By.TAG_NAME, "a")
    browser.switch_to.default_content()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Outer"
    link.click()
    browser.switch_to.frame(browser.find_element(By.ID, "inner"))
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == "Fixture home"
    )
    browser.switch_to.parent_frame()
    browser.switch_to.frame(0)
    assert browser.execute_script("return location.pathname") == "/"
    browser.switch_to.default_content()
    with pytest.raises(exc.NoSuchFrameException):
        browser.switch_to.frame("nope")


def test_cookies(browser: chromeguard.Browser) -> None:
    browser.add_cookie({"name": "a", "value": "1"})
    browser.add_cookie({"name": "b", "value": "2", "path": "/", "expiry": int(time.time()) + 3600})
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies["a"]["value"] == "1" and "expiry" not in cookies["a"]
    assert cookies["b"]["expiry"] > time.time()
    assert browser.get_cookie("b")["value"] == "2"  # type: ignore[index]
    browser.delete_cookie("a")
    assert browser.get_cookie("a") is None
    browser.delete_all_cookies()
    assert browser.get_cookies() == []
    with pytest.raises(exc.InvalidArgumentException):
        browser.add_cookie({"name": "x"})
    with pytest.raises(exc.InvalidCookieDomainException):
        browser.add_cookie({"name": "x", "value": "1", "domain": "example.com"})


def test_screenshots(browser: chromeguard.Browser, tmp_path: Path) -> None:
    png = browser.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG")
    assert browser.find_element(By.ID, "heading").screenshot_as_png.startswith(b"\x89PNG")
    target = tmp_path / "page.png"
    assert browser.save_screenshot(target) and target.read_bytes().startswith(b"\x89PNG")


def test_storage_state_restores_a_login(site: Site) -> None:
    with chromeguard.create_browser() as original:
        original.get(site.url("/login"))
        state = original.storage_state()
    with chromeguard.create_browser(storage_state=state) as restored:
        restored.get(site.url("/account"))
        assert restored.title == "account:s3cret;token:t1"
    with chromeguard.create_browser() as fresh:
        fresh.get(site.url("/account"))
        assert fresh.title == "account:anonymous;token:none"
    assert (
        chromeguard.scrape(site.url("/account"), storage_state=state).title
        == "account:s3cret;token:t1"
    )
    chromeguard.shutdown()


def test_session_store(site: Site, tmp_path: Path) -> None:
    store = chromeguard.SessionStore(tmp_path / "sessions")
    assert stat.S_IMODE(os.stat(tmp_path / "sessions").st_mode) == 0o700
    with chromeguard.create_browser() as login:
        login.get(site.url("/login"))
        store.save("shop", login)
    assert stat.S_IMODE(os.stat(tmp_path / "sessions" / "shop.json").st_mode) == 0o600
    assert store.names() == ["shop"]
    with pytest.raises(KeyError):
        store.load("missing")
    with pytest.raises(chromeguard.ConfigError):
        store.load("../etc/passwd")
    titles: list[str] = []
    profiles: list[str] = []

    def use_login() -> None:
        with store.browser("shop") as browser:
            browser.get(site.url("/account"))
            titles.append(browser.title)
            profiles.append(browser.profile_dir)

    threads = [threading.Thread(target=use_login) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert titles == ["account:s3cret;token:t1"] * 4
    assert len(set(profiles)) == 4, "each in its own profile"


def test_concurrent_saves_never_corrupt_a_state(tmp_path: Path) -> None:
    store = chromeguard.SessionStore(tmp_path)

    def writer(n: int) -> None:
        for i in range(30):
            store.save_state(
                "shared", {"cookies": [{"name": "n", "value": f"{n}-{i}" * 50}], "origins": []}
            )
            store.load("shared")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.load("shared")["cookies"][0]["name"] == "n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unsupported_selenium_features_say_so(browser: chromeguard.Browser) -> None:
    with pytest.raises(NotImplementedError, match="set_window_size"):
        browser.set_window_size(800, 600)
    with pytest.raises(NotImplementedError, match=r"switch_to\.alert"):
        _ = browser.switch_to.alert
    with pytest.raises(AttributeError):
        _ = browser.no_such_thing
    browser.find_element(By.ID, "user").click()
    assert browser.switch_to.active_element.get_attribute("id") == "user"
