"""The live cost explorers in the rendered book, in headless Chromium (issue 15).

Over the built book on a loopback HTTP server: press "Run live", wait for Pyodide, move sliders with the keyboard and
by filling them, and compare the numbers the page shows with the Python entry points. From disk (file://) and with
JavaScript off: the static twin and the line on how to get the live version, and no error from the live script.
Without a Pyodide core in the build (no network on the first build) the live tests skip locally and fail under CI.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from inception_lab.cost import explorers  # noqa: E402
from inception_lab.palette import ALERT  # noqa: E402

PAGES = {"inception-module": "notebooks/01_inception_module.html", "factorization": "notebooks/04_factorization.html",
         "grid-reduction": "notebooks/05_grid_reduction.html"}
#: Per explorer: a slider moved with the keyboard (name, presses of ArrowRight), a slider filled (name, value).
MOVES = {"inception-module": (("in_channels", 2), ("size", 56)),
         "factorization": (("n", 2), ("mid_channels", 96)),
         "grid-reduction": (("in_channels", 3), ("split", 0.5))}
READY_TIMEOUT_MS = 180_000  # Pyodide's first start: seconds on a laptop, more on a loaded CI machine


def css_rgb(colour) -> str:
    """A matplotlib colour as the browser's computed style writes it: ``rgb(r, g, b)``."""
    return "rgb({}, {}, {})".format(*(round(255 * c) for c in matplotlib.colors.to_rgb(colour)))


def matplotlib_colours(view) -> dict[str, str]:
    """The colour of each segment key in the figure the ipywidgets explorer and the static twin draw of ``view``."""
    from inception_lab.viz.cost_charts import plot_view

    fig = plot_view(view)
    drawn = {p.get_gid(): css_rgb(p.get_facecolor()) for ax in fig.axes for p in ax.patches}
    plt.close(fig)
    return drawn


def table_rows(page):
    return page.eval_on_selector_all(".il-live-table tbody tr",
                                     "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")


def live_problems(page):
    """Console errors and page errors that come from the live explorers (other scripts are not this file's test)."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and (
        "_live/" in m.location.get("url", "") or "live_explorers" in m.location.get("url", "")) else None)
    page.on("pageerror", lambda e: problems.append(str(e)) if "live_explorers" in f"{e.stack}{e}" else None)
    return problems


@pytest.fixture(scope="module")
def live_book(built_book, served_book):
    if not (built_book / "_live" / "pyodide" / "pyodide.asm.wasm").is_file():
        message = ("the built book has no Pyodide core (_live/pyodide/): the build could not fetch it from the npm "
                   "registry (its log says why)")
        if os.environ.get("CI"):
            pytest.fail(message + "; CI has registry access, so this is an error")
        pytest.skip(message)
    return served_book


@pytest.mark.parametrize("name", sorted(PAGES))
def test_run_live_then_move_sliders(browser, live_book, name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = live_problems(page)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_book}/{PAGES[name]}")
    marker = page.locator(f'.il-live[data-explorer="{name}"]')
    page.wait_for_selector(f'.il-live[data-explorer="{name}"][data-state="idle"]')
    assert marker.locator(".il-live-fallback").is_hidden()
    assert not [u for u in requests if "/_live/" in u], "Pyodide must load on demand, not with the page"

    marker.get_by_role("button", name="Run live").click()
    progress = marker.locator('.il-live-status[role="status"]')  # shown while Pyodide loads (seconds), then empty
    assert progress.locator("progress").count() == 1 and "Loading" in progress.inner_text()
    page.wait_for_selector(f'.il-live[data-explorer="{name}"][data-state="ready"]', timeout=READY_TIMEOUT_MS)
    assert progress.inner_text() == ""
    assert any(u.endswith("/_live/pyodide/pyodide.asm.wasm") for u in requests)
    view = explorers.view(name)
    assert table_rows(page) == view["table"]["rows"]
    chart = marker.locator(".il-live-charts")
    assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label") == view["alt"]
    first_bar = view["charts"][0]["bars"][0]["segments"]
    widths = marker.locator(".il-live-chart").first.locator(".il-live-row").first.locator(".il-live-seg")
    assert [widths.nth(i).evaluate("e => e.style.width") for i in range(widths.count())] == [
        f"{s['pct']:g}%" for s in first_bar]
    drawn = matplotlib_colours(view)  # the page paints each segment and legend swatch as the matplotlib figure
    assert [widths.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(widths.count())] == [
        drawn[s["key"]] for s in first_bar]
    swatches = marker.locator(".il-live-legend .il-live-swatch")
    legend = [swatches.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(swatches.count())]
    keys = {s["series"]: s["key"] for panel in view["charts"] for bar in panel["bars"] for s in bar["segments"]}
    assert legend == [drawn[keys[item["series"]]] for item in view["legend"]]

    settings = dict(view["settings"])
    (pressed, presses), (filled, value) = MOVES[name]
    control = next(c for c in explorers.EXPLORERS[name][0] if c.name == pressed)
    slider = marker.get_by_label(control.label, exact=True)
    slider.focus()
    for _ in range(presses):
        slider.press("ArrowRight")
    settings[pressed] = control.default + presses * control.step
    assert float(slider.input_value()) == pytest.approx(settings[pressed])
    assert table_rows(page) == explorers.view(name, settings)["table"]["rows"]
    marker.locator(f'[data-control="{filled}"]').fill(str(value))
    settings[filled] = value
    expected = explorers.view(name, settings)
    assert table_rows(page) == expected["table"]["rows"]
    assert marker.locator(".il-live-title").inner_text() == expected["title"]
    assert marker.locator(".il-live-charts").get_attribute("aria-label") == expected["alt"]

    light = marker.locator(".il-live-panel").evaluate("e => getComputedStyle(e).backgroundColor")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    assert marker.locator(".il-live-panel").evaluate("e => getComputedStyle(e).backgroundColor") != light
    assert problems == []
    page.close()


def test_grid_reduction_choices_and_a_setting_that_cannot_be_built(browser, live_book):
    page = browser.new_page()
    problems = live_problems(page)
    page.goto(f"{live_book}/{PAGES['grid-reduction']}")
    marker = page.locator(".il-live")
    marker.get_by_role("button", name="Run live").click()
    page.wait_for_selector('.il-live[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    marker.get_by_label("conv kernel").select_option(label="1")
    marker.get_by_label("pooling").select_option(label="avg")
    assert table_rows(page) == explorers.view("grid-reduction", dict(kernel=1, pool="avg"))["table"]["rows"]
    marker.locator('[data-control="out_channels"]').fill("32")  # fewer than the 288 channels the pooling passes on
    expected = explorers.view("grid-reduction", dict(kernel=1, pool="avg", out_channels=32))
    assert marker.get_by_role("alert").inner_text() == expected["error"]
    assert marker.get_by_role("alert").evaluate("e => getComputedStyle(e).color") == css_rgb(ALERT)
    assert table_rows(page) == []
    marker.locator('[data-control="out_channels"]').fill("768")
    assert table_rows(page) == explorers.view("grid-reduction", dict(kernel=1, pool="avg"))["table"]["rows"]
    assert problems == []
    page.close()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_from_disk_the_static_twin_and_the_fallback_line(browser, built_book, name):
    page = browser.new_page()
    problems = live_problems(page)
    page.goto((built_book / PAGES[name]).as_uri())
    page.wait_for_selector(f'.il-live[data-explorer="{name}"][data-state="unavailable"]')
    marker = page.locator(".il-live")
    line = marker.locator(".il-live-fallback")
    assert line.is_visible() and "python -m http.server -d _build/html" in line.inner_text()
    assert "launch button" in line.inner_text()
    assert marker.get_by_role("button").count() == 0
    twin = marker.evaluate("""m => {
        const next = Array.from(document.querySelectorAll('div.cell'))
            .find(c => m.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);
        return Array.from(next.querySelectorAll('img'), i => i.complete && i.naturalWidth > 0);
    }""")
    assert twin and all(twin), "the static twin's figure, right after the marker, is shown"
    assert problems == []
    page.close()


def test_without_javascript_the_fallback_line_stays(browser, built_book):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((built_book / PAGES["inception-module"]).as_uri())
    assert page.locator(".il-live-fallback").is_visible() and page.locator(".il-live-run").count() == 0
    context.close()
