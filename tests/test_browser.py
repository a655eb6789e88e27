"""The explain web page in real headless Chromium: every step, every number, the highlights.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium``
package (in the ``test`` extra). Outside CI the tests skip when Chromium is
missing; with ``CI`` set they fail instead, because CI installs it.
Set ``GLASSNET_UPDATE_SCREENSHOTS=1`` to rewrite the screenshot in docs/images/.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from glassnet.netfile import load_problem
from glassnet.render.html import explain_page
from glassnet.render.text import format_value
from glassnet.render.worked import worked_steps

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "images"


def _missing():
    reasons = []
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        reasons.append("chromium is not installed (apt-get install chromium)")
    if shutil.which("chromedriver") is None and not Path(CHROMEDRIVER).exists():
        reasons.append("chromedriver is not installed (apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        reasons.append("selenium is not installed (pip install 'glassnet[test]')")
    return "; ".join(reasons)


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="glassnet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,900"):
        options.add_argument(argument)
    service = Service(shutil.which("chromedriver") or CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _text(driver, element_id):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).get_attribute("textContent")


def _highlighted(driver):
    script = ("return Array.from(document.querySelectorAll('#diagram-panel .hl'))"
              ".map(function (e) { return e.id; });")
    return set(driver.execute_script(script))


def _click(driver, element_id):
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, element_id).click()


STATE_SCRIPT = """
var read = function (id) { return document.getElementById(id).textContent; };
return {symbol: read('q-symbol'), result: read('q-result'), formula: read('q-formula'),
        position: read('position'),
        highlighted: Array.from(document.querySelectorAll('#diagram-panel .hl')).map(function (e) { return e.id; })};
"""


def _walk(driver, traces, screenshot_at=None, screenshot_path=None):
    """Click Next through every quantity, checking the page against the traces."""
    from selenium.webdriver.common.by import By

    next_button = driver.find_element(By.ID, "next")
    expected = [(trace, step) for trace in traces for step in worked_steps(trace)]
    for index, (trace, step) in enumerate(expected):
        state = driver.execute_script(STATE_SCRIPT)
        assert state["symbol"] == step.symbol
        assert state["result"] == format_value(trace.value(step.symbol), 8), step.symbol
        assert state["position"].endswith(f"quantity {index + 1} of {len(expected)}")
        assert set(state["highlighted"]) == set(step.highlight), step.symbol
        if not step.given:
            assert state["formula"] == step.formula
        if step.symbol == screenshot_at and screenshot_path is not None:
            driver.save_screenshot(str(screenshot_path))
        if index < len(expected) - 1:
            next_button.click()
    return expected


def test_lesson_page_every_step(browser, tmp_path):
    traces = load_problem("lesson").run()
    page = tmp_path / "lesson.html"
    page.write_text(explain_page(traces), encoding="utf-8")
    browser.get(page.as_uri())
    shot = tmp_path / "explain-page.png"
    if os.environ.get("GLASSNET_UPDATE_SCREENSHOTS"):
        shot = SCREENSHOTS / "explain-page.png"
    expected = _walk(browser, traces, screenshot_at="dW2", screenshot_path=shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser.find_element("id", "next").get_attribute("disabled") is not None

    _click(browser, "prev")
    trace, step = expected[-2]
    assert _text(browser, "q-symbol") == step.symbol
    assert _text(browser, "q-substituted") == step.substituted(4)


def test_lesson_page_numbers_and_labels(browser, tmp_path):
    traces = load_problem("lesson").run()
    page = tmp_path / "lesson.html"
    page.write_text(explain_page(traces), encoding="utf-8")
    browser.get(page.as_uri())
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "#all tr[data-index]")
    symbols = [step.symbol for step in worked_steps(traces[0])]
    assert len(rows) == len(symbols)
    index = symbols.index("delta2")
    rows[index].click()
    assert _text(browser, "q-substituted") == "[[-0.321]] ⊙ [[0.218]]"
    assert _text(browser, "q-result") == "[[-0.069977899]]"
    # The diagram shows the backward phase: delta under the output unit, dW2 on its edges.
    assert _text(browser, "n-2-0-label") == "δ=-0.07"
    assert _text(browser, "e-2-0-0-label") == "-0.0161"
    assert "backward pass" in _text(browser, "diagram-title")


def test_batch_page_with_two_steps(browser, tmp_path):
    traces = load_problem("sigmoid-2-2-2").run(2)
    page = tmp_path / "two-steps.html"
    page.write_text(explain_page(traces), encoding="utf-8")
    browser.get(page.as_uri())
    _walk(browser, traces)
    assert _text(browser, "position").startswith("training step 2")


def test_phase_buttons_jump(browser, tmp_path):
    from selenium.webdriver.common.by import By

    traces = load_problem("lesson").run()
    page = tmp_path / "lesson.html"
    page.write_text(explain_page(traces), encoding="utf-8")
    browser.get(page.as_uri())
    browser.find_element(By.CSS_SELECTOR, "#phases button[data-phase='backward']").click()
    assert _text(browser, "q-symbol") == "dL/dy"
    browser.find_element(By.CSS_SELECTOR, "#phases button[data-phase='update']").click()
    assert _text(browser, "q-symbol") == "W1_new"
    assert _text(browser, "phase") == "Update"
