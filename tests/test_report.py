"""The HTML report renders in headless Chromium: title, every figure, the checks table."""

import shutil

import pytest

import theorylab
from theorylab.core.report import build_report


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip(
            "headless Chromium not installed (make test installs chromium, chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=opts)


@pytest.mark.browser
def test_report_renders_in_chromium(quick_report):
    out = quick_report["out"]
    index = out / "index.html"
    assert index.is_file()
    build_report(out)  # rebuilding from the summaries gives the same page
    browser = _browser()
    try:
        browser.get(index.resolve().as_uri())
        assert browser.title == "theorylab report"
        images = browser.find_elements("tag name", "img")
        assert len(images) >= 3
        loaded = browser.execute_script(
            "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        assert all(loaded), loaded
        tables = browser.find_elements("css selector", "table.checks")
        studies = theorylab.list_studies()
        assert len(tables) == len(studies)
        for table in tables:
            assert len(table.find_elements("css selector", "tbody tr")) >= 5
        summary = browser.find_element("css selector", "table.summary").text
        for sid in studies:
            assert sid in summary
        assert "FAIL" not in summary
        # readable sizes: every figure drawn at >= 500 px wide (or its natural width if
        # smaller) on a 1280-px window; wide multi-panel figures span the page
        browser.set_window_size(1280, 1000)
        sizes = browser.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.getBoundingClientRect().width,"
            " i.naturalWidth, i.closest('figure').classList.contains('wide')])"
        )
        small = [(alt, w) for alt, w, nat, _ in sizes if w < min(500, nat) - 1]
        assert not small, small
        assert all(w > min(1000, nat) - 1 for _, w, nat, wide in sizes if wide)
        captions = browser.find_elements("css selector", ".figs figcaption")
        assert len(captions) == len(images) and all(c.text.strip() for c in captions)
        # folding sections and the way back to the top
        first = browser.find_element("css selector", "details.study")
        assert first.get_attribute("open") is not None
        assert len(browser.find_elements("css selector", "a[href='#top']")) == len(studies)
        shots = quick_report["out"] / "screenshots"
        shots.mkdir(exist_ok=True)
        browser.save_screenshot(str(shots / "report_top.png"))
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight / 3)")
        browser.save_screenshot(str(shots / "report_middle.png"))
        assert (shots / "report_top.png").stat().st_size > 10_000
    finally:
        browser.quit()
