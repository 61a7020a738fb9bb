"""The HTML report: one self-contained file, names escaped, and working in a real browser.

The browser tests open the report from disk in headless Chromium (Debian's ``chromium`` and
``chromium-driver``) through selenium and check what a person would: no console error, no request but
the file itself, a drawn chart whose segments show their counts on hover, a tensor table that filters
and sorts, a hostile tensor name shown as text, a phone-width page without sideways scrolling, and the
dark colour scheme. They fail (not skip) when Chromium is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import pytest

import paramscope
from paramscope import cli
from paramscope.render import html as html_out

TINY_BERT = Path(__file__).parent / "data" / "safetensors" / "tiny_bert"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium chromium-driver"
HOSTILE = ("<script>window.__pwned=1</script>", '"><img src=x onerror="window.__pwned=2">\u2028</script><!--')


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def report(capsys: pytest.CaptureFixture[str], path: Path, *models: str) -> Path:
    code, out, err = run_main(capsys, "report", *models, "-o", str(path))
    assert (code, err) == (0, ""), err
    assert out.startswith(f"wrote {path} (")
    return path


def hostile_checkpoint(folder: Path) -> Path:
    """tiny_bert's config and tensors plus tensors whose names are markup and script."""
    from .builders import make_safetensors

    folder.mkdir()
    shutil.copy(TINY_BERT / "config.json", folder / "config.json")
    raw = (TINY_BERT / "model.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    for name in HOSTILE:
        header[name] = {"dtype": "F32", "shape": [2, 3], "data_offsets": [end, end + 24]}
        end += 24
    make_safetensors(folder / "model.safetensors", header)
    return folder


# -- the file ---------------------------------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._text)))
            self._in_script = None


def parse(path: Path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_report_is_one_self_contained_file(capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "bert.html", "bert-base-uncased")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>")
    page = parse(path)
    # Nothing is loaded from anywhere: no src on any tag, links only to the page itself or data:.
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        if tag == "link":
            assert (attrs.get("href") or "").startswith("data:"), attrs
        if tag == "a":
            assert (attrs.get("href") or "").startswith("#"), attrs
    assert len(page.scripts) == 4 and all("src" not in attrs for attrs, _ in page.scripts)
    # The Content-Security-Policy allows exactly these inline scripts and no connection.
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "connect-src 'none'" in csp and "default-src 'none'" in csp
    hashes = set(re.findall(r"'sha256-([^']+)'", csp))
    for attrs, body in page.scripts:
        if attrs.get("type") != "application/json":
            assert base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() in hashes
    assert path.stat().st_size < 8_000_000  # plotly.js is most of it


def test_report_data_block_is_escaped_json() -> None:
    data = {"names": ["</script><script>alert(1)</script>", "a\u2028b\u2029c", "<!-- & -->"]}
    text = html_out.script_json(data)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == data


def test_report_escapes_names_in_markup(capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "h.html", str(hostile_checkpoint(tmp_path / "ckpt")))
    text = path.read_text(encoding="utf-8")
    assert "window.__pwned" in text  # the names are there ...
    for name in HOSTILE:
        assert name not in text  # ... but never as markup
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    page = parse(path)
    assert [t for t, _ in page.tags].count("script") == 4
    assert not any(t == "img" for t, _ in page.tags)


def test_report_of_a_checkpoint_has_the_reconciliation(capsys, tmp_path: Path) -> None:
    text = report(capsys, tmp_path / "c.html", str(TINY_BERT)).read_text(encoding="utf-8")
    assert 'id="reconciliation"' in text
    assert "the checkpoint agrees with the formula (46 tensors match)" in text
    assert "tied weights not stored" in text
    assert "(V + P + T + 2)·H" in text  # the formulas of its config


def test_compare_report_has_the_differences(capsys, tmp_path: Path) -> None:
    text = report(capsys, tmp_path / "c.html", "bert-base-uncased", "bert-base-chinese",
                  "bert-large-cased").read_text(encoding="utf-8")
    assert "-7,214,592 (-6.6%)" in text  # bert-base-chinese's smaller vocabulary
    assert "+224,097,024 (+204.7%)" in text
    assert 'id="chart-groups-share"' in text and 'id="chart-roles-abs"' in text


REPORT_ERRORS = [
    (["report", "bert-base-uncased", "-o", "bert.txt"],
     "error: -o bert.txt: the report must end in .html or .htm, got '.txt'; e.g. -o model.html"),
    (["report", "bert-base-uncased", "-o", "bert"],
     "error: -o bert: the report must end in .html or .htm, got no suffix; e.g. -o model.html"),
    (["report", "bert-base-uncased", "-o", "/nonexistent/x/bert.html"],
     "error: -o /nonexistent/x/bert.html: the folder /nonexistent/x does not exist; create it first"),
    (["report", "bert-base-uncased"],
     "error: the following arguments are required: -o/--output (see 'paramscope report --help')"),
    (["report", "bert-base-uncase", "-o", "x.html"],
     "error: 'bert-base-uncase' is neither a preset nor an existing file or folder; did you mean "
     "bert-base-uncased, bert-base-cased, bert-large-uncased? 'paramscope presets' lists the presets"),
]


@pytest.mark.parametrize(("argv", "message"), REPORT_ERRORS, ids=[" ".join(a) for a, _ in REPORT_ERRORS])
def test_report_errors(capsys, argv: list[str], message: str) -> None:
    assert run_main(capsys, *argv) == (2, "", message + "\n")


def test_report_into_a_folder(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "out.html"
    folder.mkdir()
    code, out, err = run_main(capsys, "report", "bert-tiny", "-o", str(folder))
    assert (code, out) == (2, "")
    assert err == f"error: -o {folder}: is a folder; give a file name such as {folder}/model.html\n"


def test_report_without_plotly(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    code, out, err = run_main(capsys, "report", "bert-tiny", "-o", str(tmp_path / "x.html"))
    assert (code, out) == (2, "")
    assert err == ("error: the HTML report needs plotly, which is not installed; install paramscope[report] "
                   "(pip install 'paramscope[report]')\n")
    assert not (tmp_path / "x.html").exists()


def test_start_up_imports_no_chart_library(tmp_path: Path) -> None:
    code = ("import sys, paramscope.cli as c; c.run(['bert-base-uncased']); c.run(['compare', 'bert-tiny', 'gpt2']); "
            f"c.run(['report', 'bert-tiny', '-o', {str(tmp_path / 'r.html')!r}]); "
            "print(sorted(m for m in ('matplotlib', 'selenium', 'torch', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    code = "import sys, paramscope.cli as c; c.run(['show', 'bert-tiny']); print('plotly' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_notebook_repr(monkeypatch) -> None:
    a = paramscope.inspect("bert-base-uncased")
    out = a._repr_html_()
    assert out.startswith('<div class="paramscope">') and "<script" not in out
    assert "<td>encoder</td>" in out and "85,054,464" in out and "<td>attention</td>" in out
    assert '<img alt="parameters by group and by role"' in out and "data:image/png;base64," in out
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    plain = a._repr_html_()
    assert "<img" not in plain and "85,054,464" in plain  # the table still shows, with its share bars


def test_notebook_repr_escapes_names(tmp_path: Path) -> None:
    out = paramscope.inspect(str(hostile_checkpoint(tmp_path / "ckpt")))._repr_html_()
    assert "<script" not in out and "<img src" not in out


# -- in a browser -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"the browser tests need {' and '.join(missing)}; install Chromium and its driver with "
                    f"`{INSTALL_CHROMIUM}` (as root; .ci/run does this)", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser tests need selenium: pip install -e '.[test]'", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # This machine's network is closed: background connections would only fail, so none are made.
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def open_page(driver, path: Path, charts: int) -> tuple[list[dict], list[str]]:
    """Load the report from disk; returns (console errors, URLs requested while loading it)."""
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")  # drop what the browser did before this page
    driver.get(path.as_uri())
    wait_for(lambda: driver.execute_script(
        "return document.readyState === 'complete' && [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(e => e.querySelector('.main-svg')).length") == charts, f"{charts} charts drawn")
    time.sleep(0.5)  # anything the page would fetch later
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            requests.append(message["params"].get("request", message["params"]).get("url"))
    return errors, requests


def shot(driver, path: Path) -> None:
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def count(driver, selector: str) -> int:
    return driver.execute_script("return document.querySelectorAll(arguments[0]).length", selector)


def hover_sector(driver, label: str, *, click: bool = False) -> str:
    """Move the mouse onto the sunburst segment with this label (and click it: zoom in); return the
    tooltip's text."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    driver.execute_script("document.getElementById('chart-sunburst').scrollIntoView({block: 'center'})")
    point = driver.execute_script("""
        const slice = [...document.querySelectorAll('#chart-sunburst g.slice')]
            .find(g => (g.querySelector('text') || {}).textContent === arguments[0]);
        if (!slice) return null;
        const path = slice.querySelector('path.surface'), box = path.getBoundingClientRect();
        for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
            const x = box.left + box.width * i / 12, y = box.top + box.height * j / 12;
            if (document.elementFromPoint(x, y) === path) return [Math.round(x), Math.round(y)];
        }
        return null;""", label)
    assert point, f"no visible segment labelled {label!r}"
    action = ActionBuilder(driver)
    action.pointer_action.move_to_location(*point)
    if click:
        action.pointer_action.click()
    action.perform()
    if click:
        return ""
    return wait_for(lambda: driver.execute_script(
        "const t = document.querySelector('#chart-sunburst .hoverlayer .hovertext'); return t && t.textContent"),
        f"the tooltip of {label!r}")


def driver_labels(driver) -> set[str]:
    return set(driver.execute_script(
        "return [...document.querySelectorAll('#chart-sunburst g.slice text')].map(t => t.textContent)"))


def test_browser_one_model(browser, capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "bert.html", "bert-base-uncased")
    errors, requests = open_page(browser, path, charts=3)
    assert errors == []
    assert requests == [path.as_uri()]
    # The chart is drawn: the model, its groups, the run "layer ×12", its 12 layers, and (4 rings at a time)
    # below them their modules and single tensors.
    assert count(browser, "#chart-sunburst path.surface") >= 1 + 3 + 5 + 12
    assert count(browser, "#chart-roles .barlayer .point path") == 7
    assert count(browser, "#chart-layers .barlayer .point path") == 12
    tip = hover_sector(browser, "encoder")
    assert "85,054,464 parameters" in tip and "77.7% of the model" in tip and "L·(4H² + 2HI + 9H + I)" in tip
    tip = hover_sector(browser, "embeddings")
    assert "23,837,184 parameters" in tip and "(V + P + T + 2)·H" in tip
    hover_sector(browser, "layer 3", click=True)  # zoom in on one layer: its modules and tensors
    wait_for(lambda: driver_labels(browser) >= {"layer 3", "attention", "intermediate.dense", "weight", "bias"},
             "the layer's modules and tensors")
    tip = hover_sector(browser, "intermediate.dense")
    assert "encoder.layer.3.intermediate.dense" in tip and "2,362,368 parameters" in tip and "HI + I" in tip
    shot(browser, tmp_path / "bert.png")

    from selenium.webdriver.common.by import By

    def shown() -> list[str]:
        return browser.execute_script(
            "return [...document.querySelectorAll('#tensor-table tbody tr')].filter(r => !r.hidden)"
            ".map(r => r.cells[0].textContent)")

    field = browser.find_element(By.ID, "tensor-filter")
    field.send_keys("pooler")
    assert wait_for(lambda: shown() if len(shown()) == 2 else None, "the filter") == [
        "pooler.dense.weight", "pooler.dense.bias"]
    assert browser.find_element(By.ID, "tensor-count").text == "2 of 201 tensors"
    field.clear()
    field.send_keys("layer.3. attention")
    a = paramscope.inspect("bert-base-uncased")
    expected = [t.name for t in a.inventory.tensors if "layer.3." in t.name and "attention" in t.name]
    assert wait_for(lambda: shown() == expected, "the two-word filter") and len(expected) == 10
    field.clear()
    field.send_keys(" ")  # clear() sends no input event; a blank filter shows every row
    wait_for(lambda: len(shown()) == 201, "all rows back")
    browser.find_element(By.CSS_SELECTOR, "#tensor-table th button[data-col='3']").click()  # count, largest first
    assert shown()[0] == "embeddings.word_embeddings.weight"
    assert browser.find_element(By.CSS_SELECTOR, "#tensor-table th:nth-child(4)").get_attribute(
        "aria-sort") == "descending"


def test_browser_hostile_names_stay_text(browser, capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "h.html", str(hostile_checkpoint(tmp_path / "ckpt")))
    errors, requests = open_page(browser, path, charts=3)
    assert errors == [] and requests == [path.as_uri()]
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.scripts.length") == 4
    assert browser.execute_script("return document.images.length") == 0
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "tensor-filter").send_keys("pwned")
    wait_for(lambda: browser.find_element(By.ID, "tensor-count").text == "2 of 48 tensors", "the filter")
    cells = [row.find_element(By.TAG_NAME, "td") for row in browser.find_elements(By.CSS_SELECTOR, "#tensor-table tr")
             if row.is_displayed() and row.find_elements(By.TAG_NAME, "td")]
    assert all(c.is_displayed() for c in cells)
    assert cells[0].text == HOSTILE[0] and 'onerror="window.__pwned=2"' in cells[1].text
    findings = browser.execute_script("return document.getElementById('reconciliation').innerText")
    assert HOSTILE[0] in findings
    # In the chart the name is a label, shown as text too.
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#chart-sunburst text')].map(t => t.textContent)")
    assert "unclassified" in labels
    shot(browser, tmp_path / "hostile.png")


def test_browser_compare(browser, capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "compare.html", "bert-base-uncased", "bert-base-chinese", "bert-large-cased")
    errors, requests = open_page(browser, path, charts=4)
    assert errors == [] and requests == [path.as_uri()]
    # Three groups (embeddings, encoder, pooler) and five roles with parameters, a segment per model each.
    assert count(browser, "#chart-groups-abs .barlayer .point path") == 3 * 3
    assert count(browser, "#chart-groups-share .barlayer .point path") == 3 * 3
    assert count(browser, "#chart-roles-abs .barlayer .point path") == 5 * 3
    text = browser.execute_script("return document.getElementById('chart-groups-share').textContent")
    assert "21.8%" in text and "90.6%" in text
    shot(browser, tmp_path / "compare.png")


def test_browser_phone_width(browser, capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "bert.html", "bert-base-uncased")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        errors, _ = open_page(browser, path, charts=3)
        assert errors == []
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert width == 390
        # Nothing makes the page scroll sideways; wide tables scroll inside their own box.
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        boxes = browser.execute_script(
            "return [...document.querySelectorAll('.chart, .cards, .scroll')]"
            ".map(e => e.getBoundingClientRect().right)")
        assert max(boxes) <= width
        assert count(browser, "#chart-sunburst path.surface") >= 1 + 3 + 5 + 12
        shot(browser, tmp_path / "phone.png")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_browser_dark_scheme(browser, capsys, tmp_path: Path) -> None:
    path = report(capsys, tmp_path / "bert.html", "bert-tiny")

    def luminance(css: str) -> float:
        r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    def colors() -> tuple[float, float]:
        bg = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        tick = browser.execute_script(
            "return document.querySelector('#chart-roles .ytick text').style.fill")
        return luminance(bg), luminance(tick)

    open_page(browser, path, charts=3)
    bg, text = colors()
    assert bg > 0.9 and text < 0.3
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        errors, _ = open_page(browser, path, charts=3)
        assert errors == []
        bg, text = colors()
        assert bg < 0.1 and text > 0.8
        shot(browser, tmp_path / "dark.png")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
