"""The site of ``ekb report``, opened in a real headless Chromium (Debian's, with its driver).

The site is built once by the real CLI in a subprocess, then every page is opened from
disk: the pilot's numbers must render, no page may log a console error or request
anything outside the site's folder, and every internal link (pages and #fragments)
must resolve. Screenshots are saved with the test output (the path is printed; set
``EKB_SCREENSHOTS=DIR`` to keep them elsewhere: with ``docs`` they replace the README's
report-*.png).

Without Chromium and chromedriver the tests skip, saying why, unless ``CI`` is set:
then a missing browser fails (``.ci/run`` installs it with apt-get).

The module takes about 10 s: one site build and one browser session for all tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

import pytest

PILOT = "il2-refractory-ln-2021"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)


def _find(names: tuple[str, ...], extra: tuple[str, ...] = ()) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in extra if Path(p).is_file()), None)


CHROMIUM = _find(CHROMIUM_NAMES, ("/usr/lib/chromium/chromium",))
DRIVER = _find(DRIVER_NAMES, ("/usr/lib/chromium/chromedriver",))


def _missing_browser() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if not CHROMIUM or not DRIVER:
        return (
            "no Chromium/chromedriver on this machine "
            "(apt-get install chromium chromium-driver; .ci/run does this)"
        )
    return None


MISSING = _missing_browser()
if MISSING and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    raise RuntimeError(f"CI is set but the browser tests cannot run: {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    done = subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", "report", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("EKB_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _options(*, javascript: bool = True) -> Any:
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-GB",
    ):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return options


def _driver(*, javascript: bool = True) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # An explicit driver path: Selenium Manager never tries to download one.
    return webdriver.Chrome(
        service=Service(executable_path=str(DRIVER)), options=_options(javascript=javascript)
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = _driver()
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, page: Path) -> list[str]:
    """Load ``page``; return the URLs it requested (the page itself included)."""
    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    return requested


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _outside(site: Path, urls: list[str]) -> list[str]:
    root = site.resolve().as_uri() + "/"
    return [u for u in urls if not (u.startswith(root) or u.startswith("data:"))]


def _text(driver: Any) -> str:
    return str(driver.execute_script("return document.body.innerText"))


def test_index_shows_counts_evidence_maps_and_no_console_errors(
    browser: Any, site: Path, shots: Path
) -> None:
    requested = _open(browser, site / "index.html")
    assert _outside(site, requested) == []
    assert _console_errors(browser) == []
    assert browser.find_element("id", "count-studies").text == "15"
    charts = browser.find_elements("css selector", "svg.bubble-chart[role=img]")
    assert charts, "no evidence-map chart"
    for chart in charts:
        name = browser.execute_script(
            "var el = arguments[0]; var ids = el.getAttribute('aria-labelledby').split(' ');"
            "return ids.map(function (i) { return document.getElementById(i).textContent; })"
            ".join(' ');",
            chart,
        )
        assert name.startswith("Evidence map:"), name
    assert "Refractory lupus nephritis" in _text(browser)
    browser.save_screenshot(str(shots / "report-index.png"))


def test_the_search_box_finds_the_pilot_by_intervention(browser: Any, site: Path) -> None:
    _open(browser, site / "index.html")
    box = browser.find_element("id", "search-box")
    assert box.is_displayed()
    box.send_keys("interleukin nephritis")
    links = browser.find_elements("css selector", "#search-results a")
    hrefs = {a.get_attribute("href") for a in links}
    assert (site / "studies" / f"{PILOT}.html").resolve().as_uri() in hrefs
    assert "match" in browser.find_element("id", "search-status").text
    assert _console_errors(browser) == []


def test_the_pilot_page_renders_its_numbers_each_linked_to_its_provenance(
    browser: Any, site: Path, shots: Path
) -> None:
    page = site / "studies" / f"{PILOT}.html"
    requested = _open(browser, page)
    assert _outside(site, requested) == []
    assert _console_errors(browser) == []
    text = _text(browser)
    assert "7 of 10 participants (70%)" in text
    assert "50.3%" in text
    assert "9.3% → 16.6%" in text
    assert "none occurred" in text
    assert "very low" in text
    # The plain-language summary comes first, before PICO.
    assert text.index("In plain language") < text.index("PICO")
    # The 7 links to the row that says where it was read, with the printed sentence.
    seven = browser.find_element(
        "css selector", 'a.num[href="#result-proteinuria-improvement-50-w12--events"]'
    )
    assert seven.text == "7"
    row = browser.find_element("id", "result-proteinuria-improvement-50-w12--events")
    assert "7 (70%) achieved 50% or more improvement" in row.text
    assert "plain-language summary" in row.text and "paragraph 7" in row.text
    browser.save_screenshot(str(shots / "report-pilot.png"))
    browser.execute_script("document.getElementById('results').scrollIntoView()")
    browser.save_screenshot(str(shots / "report-pilot-results.png"))


def test_the_review_page_shows_its_flow_diagram_and_forest_plots(
    browser: Any, site: Path, shots: Path
) -> None:
    pages = sorted((site / "reviews").glob("*.html"))
    assert pages, "the shipped knowledge base has a review"
    requested = _open(browser, pages[0])
    assert _outside(site, requested) == []
    assert _console_errors(browser) == []
    text = _text(browser)
    assert "Records screened\t15" in text or "Records screened 15" in text
    assert "Studies included in review\t7" in text or "Studies included in review 7" in text
    images = browser.find_elements("css selector", "img")
    assert len(images) >= 2  # the PRISMA flow and at least one forest plot
    for img in images:
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
        assert img.get_attribute("alt")
    # The pilot's 7 of 10 as a proportion in the proteinuria forest plot's table.
    assert "0.70 (0.38 to 0.90)" in text
    # The Summary of Findings (RR of the one trial with CRR data; certainty not rated, as
    # `ekb sof` says) and the risk-of-bias section saying that nothing was assessed.
    assert "RR 3.23 (95% CI 0.83 to 12.61)" in text
    assert browser.find_element("css selector", "#sof-complete-renal-response .certainty").text == (
        "not rated"
    )
    assert "No result has been assessed for risk of bias" in text
    browser.save_screenshot(str(shots / "report-review.png"))
    browser.execute_script("document.getElementById('sof').scrollIntoView()")
    browser.save_screenshot(str(shots / "report-review-sof.png"))


def _internal_links(driver: Any) -> list[str]:
    return list(
        driver.execute_script(
            # getAttribute: an SVG <a>'s .href is an SVGAnimatedString, not a URL.
            "return Array.from(document.querySelectorAll('a[href]'),"
            " a => new URL(a.getAttribute('href'), document.baseURI).href);"
        )
    )


def test_every_page_loads_cleanly_and_every_internal_link_resolves(
    browser: Any, site: Path
) -> None:
    root = site.resolve().as_uri() + "/"
    pending = [site.resolve() / "index.html"]
    visited: set[Path] = set()
    fragments: dict[Path, set[str]] = {}
    broken: list[str] = []
    ids_of: dict[Path, set[str]] = {}
    while pending:
        page = pending.pop()
        if page in visited:
            continue
        visited.add(page)
        requested = _open(browser, page)
        assert _outside(site, requested) == [], page
        assert _console_errors(browser) == [], page
        ids_of[page] = set(
            browser.execute_script(
                "return Array.from(document.querySelectorAll('[id]'), e => e.id)"
            )
        )
        for href in _internal_links(browser):
            if not href.startswith("file:"):
                continue  # an external link (a DOI) is a link, not a request
            assert href.startswith(root), f"{page.name} links outside the site: {href}"
            url, fragment = urldefrag(href)
            target = Path(unquote(urlparse(url).path))
            if not target.is_file():
                broken.append(f"{page.name} -> {href}")
                continue
            if fragment:
                fragments.setdefault(target, set()).add(fragment)
            if target.suffix == ".html":
                pending.append(target)
    for target, wanted in fragments.items():
        missing = wanted - ids_of.get(target, set())
        broken.extend(f"{target.name}#{m}" for m in sorted(missing))
    assert broken == []
    assert len(visited) == len(list(site.rglob("*.html")))


def test_without_javascript_the_pages_still_show_everything_but_search(
    browser: Any, site: Path, shots: Path
) -> None:
    # Same browser, scripts switched off for this tab (no second browser to start).
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get((site / "index.html").as_uri())
        assert not browser.find_element("id", "search-form").is_displayed()
        assert "Search needs JavaScript" in _text(browser)
        assert PILOT in browser.page_source
        browser.get((site / "studies" / f"{PILOT}.html").as_uri())
        text = _text(browser)
        assert "7 of 10 participants" in text and "9.3% → 16.6%" in text
        browser.save_screenshot(str(shots / "report-pilot-no-javascript.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_printed_pages_drop_navigation_and_search_and_keep_the_tables(
    browser: Any, site: Path, shots: Path
) -> None:
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        _open(browser, site / "index.html")
        assert not browser.find_element("id", "search").is_displayed()
        assert not browser.find_element("css selector", ".site-header").is_displayed()
        _open(browser, site / "studies" / f"{PILOT}.html")
        assert browser.find_element("id", "results").is_displayed()
        assert "9.3% → 16.6%" in _text(browser)
        browser.save_screenshot(str(shots / "report-pilot-print.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
