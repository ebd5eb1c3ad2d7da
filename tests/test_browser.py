"""The rendered book as a reader sees it: every page of the table of contents in headless Chromium (Playwright).

Each page is opened once at a 1280 x 900 window; the page's facts (console errors, images, math, headings, what
scrolls sideways, ...) are gathered after waiting on conditions (load, MathJax's startup promise, every image
complete), never on fixed sleeps, and each test asserts one kind of fact over every page. What a page should show
(its figures, its explorers' static twins, its notebook's launch links) is derived from the notebooks and
`_config.yml`, not typed here. A screenshot of each page's first screen is kept in `_build/browser-artifacts/`,
with the suite's timings in `timings.json`.

Uses the `browser`, `served_book` and `built_book` fixtures of `conftest.py` (Debian's Chromium, never a
downloaded browser).
"""

from __future__ import annotations

import json
import pathlib
import time

import pytest
import yaml
from test_book import toc_pages

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "_build" / "browser-artifacts"
PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]
WINDOW = {"width": 1280, "height": 900}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")

# --- what each chapter should show, from its notebook ------------------------------------------------------------


def _notebook(page: str) -> dict:
    return json.loads((ROOT / page.replace(".html", ".ipynb")).read_text(encoding="utf-8"))


def _shown_code_cells(page: str) -> list[dict]:
    """Code cells whose outputs the book renders (not removed by a `remove-cell` / `remove-output` tag)."""
    return [c for c in _notebook(page)["cells"] if c["cell_type"] == "code"
            and not {"remove-cell", "remove-output"} & set(c.get("metadata", {}).get("tags", []))]


def expected_figures(page: str) -> int:
    """Number of image outputs the chapter's notebook holds in rendered cells: the page must show them all."""
    return sum(1 for c in _shown_code_cells(page) for o in c.get("outputs", [])
               if any(m in o.get("data", {}) for m in IMAGE_MIMES))


def expected_explorers(page: str) -> int:
    """Number of cells whose committed output is a widget view (each needs a static twin on the page)."""
    return sum(1 for c in _shown_code_cells(page)
               if any(WIDGET_MIME in o.get("data", {}) for o in c.get("outputs", [])))


# --- gathering a page's facts ------------------------------------------------------------------------------------

WAIT_FOR_MATH = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  return document.querySelectorAll('mjx-container').length;
}"""

IMAGES_SETTLED = "() => [...document.images].every(img => img.complete)"

FACTS = """() => {
  const main = document.querySelector('main') || document.body;
  const article = document.querySelector('article.bd-article') || main;
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
                        && getComputedStyle(el).visibility !== 'hidden';
  const text = el => (el.innerText || el.textContent || '');
  const imgs = [...article.querySelectorAll('img')];
  const outputs = [...article.querySelectorAll('.cell_output')];
  // widget views and the "Static version" twin that follows each
  const widgets = [...article.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const twins = widgets.map(w => {
    const all = [...article.querySelectorAll('p')];
    const after = all.filter(p => (w.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING)
                                   && p.querySelector('em')
                                   && /^Static version/.test(p.querySelector('em').textContent));
    const p = after[0];
    if (!p) return {found: false};
    let cell = p.nextElementSibling;
    while (cell && !cell.classList.contains('cell')) cell = cell.nextElementSibling;
    const figs = cell ? [...cell.querySelectorAll('.cell_output img')] : [];
    return {found: true, paragraph_visible: visible(p), figures: figs.length,
            figures_visible: figs.filter(i => visible(i) && i.complete && i.naturalWidth > 0).length};
  });
  const math = [...article.querySelectorAll('.math')];
  const headings = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => [+h.tagName[1], text(h).trim()]);
  return {
    title: document.title,
    images: imgs.map(i => ({src: i.getAttribute('src'), alt: i.getAttribute('alt'), complete: i.complete,
                            natural_width: i.naturalWidth, in_output: !!i.closest('.cell_output')})),
    traceback_elements: article.querySelectorAll('.output.traceback, .output.error, .output_error').length,
    outputs_with_traceback: outputs.filter(o => /Traceback \\(most recent call last\\)/.test(text(o))).length,
    math_total: math.length,
    math_unrendered: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    raw_tex: (text(article).match(/\\\\[\\(\\[]/g) || []).length,
    headings: headings,
    twins: twins,
    launch_links: [...document.querySelectorAll('a[href]')].map(a => a.href)
                    .filter(h => /colab\\.research\\.google\\.com|mybinder\\.org/.test(h)),
  };
}"""

OPEN_EVERYTHING = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  document.querySelectorAll('.toggle-hidden').forEach(el => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('.toggle-details__container, #solution-content').forEach(el => el.style.display = '');
}"""

OVERFLOW = """() => {
  // Every code cell, every output and every table or image in the column, with everything folded opened first.
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const column = article.getBoundingClientRect();
  const describe = el => (el.closest('.cell_output') ? 'output ' : el.closest('.cell_input') ? 'code ' : '')
                         + el.tagName.toLowerCase() + ': ' + (el.innerText || el.getAttribute('src') || '')
                           .split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100);
  const boxes = [...article.querySelectorAll('div.highlight pre, .cell_output pre, .cell_output, table, img')];
  const unmeasured = [], wide = [];
  for (const el of boxes) {
    if (!el.getClientRects().length) { unmeasured.push(describe(el)); continue; }
    const r = el.getBoundingClientRect();
    const scrolls = el.scrollWidth > el.clientWidth + 1;
    const sticksOut = r.right > column.right + 1 || r.left < column.left - 1;
    let parentScrolls = false;
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== 'visible') {
        parentScrolls = true; break;
      }
    }
    if (scrolls || sticksOut || parentScrolls)
      wide.push(`${describe(el)} (scrollWidth ${el.scrollWidth}, clientWidth ${el.clientWidth}, `
                + `box ${Math.round(r.width)})`);
  }
  return {measured: boxes.length - unmeasured.length, unmeasured, wide,
          code_cells: article.querySelectorAll('.cell_input').length,
          page_scrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1};
}"""


def _open(browser, url: str):
    """A fresh 1280 x 900 page that records console errors, page errors and failed requests."""
    context = browser.new_context(viewport=WINDOW)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text} ({m.location.get('url', '')})")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)  # the book has a favicon: not even /favicon.ico may 404
    page.goto(url, wait_until="load")
    page.evaluate(WAIT_FOR_MATH)
    page.wait_for_function(IMAGES_SETTLED)
    return context, page, errors


@pytest.fixture(scope="module")
def facts(browser, served_book):
    """Every page's facts, gathered once: {page: {...}} plus the suite's timing."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    gathered, timings = {}, {}
    for name in PAGES:
        start = time.perf_counter()
        context, page, errors = _open(browser, f"{served_book}/{name}")
        data = page.evaluate(FACTS)
        page.screenshot(path=str(ARTIFACTS / (name.replace("/", "__").replace(".html", ".png"))))
        page.evaluate(OPEN_EVERYTHING)
        data["overflow"] = page.evaluate(OVERFLOW)
        data["errors"] = list(errors)
        context.close()
        gathered[name] = data
        timings[name] = round(time.perf_counter() - start, 2)
    (ARTIFACTS / "timings.json").write_text(json.dumps({"seconds_per_page": timings,
                                                         "total_seconds": round(sum(timings.values()), 2)}, indent=1))
    return gathered


def test_every_page_is_checked():
    # The pages come from _toc.yml; every chapter notebook must be among them (a chapter left out of the table of
    # contents would be neither built nor checked).
    notebooks = [f"notebooks/{p.stem}.html" for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    assert len(PAGES) >= 10 and CHAPTERS == notebooks


@pytest.mark.parametrize("name", PAGES)
def test_no_console_or_page_error(facts, name):
    assert facts[name]["errors"] == [], "\n".join(facts[name]["errors"])


@pytest.mark.parametrize("name", PAGES)
def test_no_traceback_or_error_cell(facts, name):
    assert facts[name]["traceback_elements"] == 0
    assert facts[name]["outputs_with_traceback"] == 0


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loads(facts, name):
    broken = [i["src"] for i in facts[name]["images"] if not (i["complete"] and i["natural_width"] > 0)]
    assert broken == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_shows_its_figures(facts, name):
    expected = expected_figures(name)
    assert expected >= 3, f"{name}'s notebook holds only {expected} figures"
    shown = [i for i in facts[name]["images"] if i["in_output"] and i["complete"] and i["natural_width"] > 0]
    assert len(shown) >= expected


@pytest.mark.parametrize("name", PAGES)
def test_math_is_rendered(facts, name):
    f = facts[name]
    assert f["math_unrendered"] == [], "MathJax did not typeset these"
    assert f["raw_tex"] == 0, "raw \\( or \\[ TeX left on the page"


def test_math_appears_where_expected(facts):
    with_math = [n for n in PAGES if facts[n]["math_total"]]
    assert "book/notation.html" in with_math and len(with_math) >= 4, with_math


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_explorer_has_a_visible_static_twin(facts, name):
    twins = facts[name]["twins"]
    assert len(twins) == expected_explorers(name)
    for twin in twins:
        assert twin["found"], "an explorer with no 'Static version' paragraph after it"
        assert twin["paragraph_visible"]
        assert twin["figures"] >= 1 and twin["figures_visible"] == twin["figures"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_launch_buttons_open_this_notebook(facts, name):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    branch = config["repository"].get("branch", "main")
    notebook = name.replace(".html", ".ipynb")
    links = facts[name]["launch_links"]
    colab = [h for h in links if "colab.research.google.com" in h]
    binder = [h for h in links if "mybinder.org" in h]
    assert colab == [f"https://colab.research.google.com/github/{repo}/blob/{branch}/{notebook}"]
    assert len(binder) == 1 and binder[0].startswith(f"https://mybinder.org/v2/gh/{repo}/{branch}?")
    assert binder[0].endswith(f"/{notebook}")


@pytest.mark.parametrize("name", PAGES)
def test_headings_in_order(facts, name):
    levels = [level for level, _ in facts[name]["headings"]]
    assert levels and levels[0] == 1 and levels.count(1) == 1, facts[name]["headings"][:3]
    skips = [(a, b, t) for (a, _), (b, t) in zip(facts[name]["headings"], facts[name]["headings"][1:], strict=False)
             if b > a + 1]
    assert skips == [], "heading levels skipped"


# Code and tables are written to fit 120 columns; printed prose sits in cells tagged `wrap-output`.
@pytest.mark.parametrize("name", PAGES)
def test_nothing_scrolls_sideways_at_1280px(facts, name):
    overflow = facts[name]["overflow"]
    assert overflow["unmeasured"] == [], "elements still hidden after opening every fold: not measured"
    assert overflow["measured"] >= overflow["code_cells"]
    assert not overflow["page_scrolls"]
    assert overflow["wide"] == [], f"{len(overflow['wide'])} elements wider than the column:\n" + \
        "\n".join(overflow["wide"][:15])


NARROW = {"width": 1024, "height": 768}


@pytest.fixture(scope="module")
def overflow_1024(browser, served_book):
    """What scrolls sideways on every page at a 1024 px window (the table of contents starts folded there)."""
    gathered = {}
    for name in PAGES:
        context = browser.new_context(viewport=NARROW)
        page = context.new_page()
        page.goto(f"{served_book}/{name}", wait_until="load")
        page.locator(".bd-sidebar-primary").wait_for(state="hidden")
        page.evaluate(WAIT_FOR_MATH)
        page.wait_for_function(IMAGES_SETTLED)
        page.evaluate(OPEN_EVERYTHING)
        # the folding table of contents animates the column's width: measure once every animation has ended
        page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
        gathered[name] = page.evaluate(OVERFLOW)
        context.close()
    return gathered


@pytest.mark.parametrize("name", PAGES)
def test_nothing_scrolls_sideways_at_1024px(overflow_1024, name):
    overflow = overflow_1024[name]
    assert overflow["unmeasured"] == [], "elements still hidden after opening every fold: not measured"
    assert not overflow["page_scrolls"]
    assert overflow["wide"] == [], f"{len(overflow['wide'])} elements wider than the column at 1024 px:\n" + \
        "\n".join(overflow["wide"][:15])


def test_at_1024px_the_table_of_contents_starts_folded_and_unfolds(browser, served_book):
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        page.goto(f"{served_book}/{CHAPTERS[0]}", wait_until="load")
        sidebar = page.locator(".bd-sidebar-primary")
        sidebar.wait_for(state="hidden")
        page.locator(".primary-toggle").first.click()
        sidebar.wait_for(state="visible")
    finally:
        context.close()


@pytest.mark.parametrize("name", CHAPTERS)
def test_first_screen_screenshot_kept(facts, name):
    shot = ARTIFACTS / name.replace("/", "__").replace(".html", ".png")
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.parametrize("name", CHAPTERS)
def test_solutions_hidden_until_clicked(browser, served_book, name):
    context, page, errors = _open(browser, f"{served_book}/{name}")
    try:
        solutions = page.locator("div.solution.dropdown")
        count = solutions.count()
        assert count >= 3
        for k in range(count):
            solution = solutions.nth(k)
            body = solution.locator(":scope > section, :scope > *:not(.admonition-title)").first
            assert solution.locator(".admonition-title").is_visible()
            assert body.is_hidden(), f"solution {k + 1} is shown before a click"
            solution.locator("button.toggle-button").click()
            body.wait_for(state="visible")
            code = solution.locator("div.highlight pre")
            assert code.count() == 0 or code.first.is_visible()
        assert errors == []
    finally:
        context.close()


def test_the_sidebar_toggle_works_and_search_appears_once(browser, served_book):
    """The visible "☰" hides the table of contents (it once did nothing: a hidden navbar copy took its script)."""
    context, page, errors = _open(browser, f"{served_book}/{CHAPTERS[0]}")
    try:
        sidebar = page.locator(".bd-sidebar-primary")
        assert sidebar.is_visible()
        assert page.locator(".search-button-field:visible").count() == 1
        toggles = page.locator(".primary-toggle")
        assert toggles.count() == 1 and toggles.first.is_visible()
        toggles.first.click()
        sidebar.wait_for(state="hidden")
        toggles.first.click()
        sidebar.wait_for(state="visible")
        page.keyboard.press("Control+k")
        page.locator("dialog#pst-search-dialog[open] input").first.wait_for(state="visible")
        assert errors == []
    finally:
        context.close()


def test_reads_offline_from_file(browser, built_book):
    """Opened from disk with every network request refused, math still renders (MathJax is vendored)."""
    context = browser.new_context(viewport=WINDOW)
    remote = []

    def refuse(route):
        remote.append(route.request.url)
        route.abort()

    context.route("http://**", refuse)
    context.route("https://**", refuse)
    page = context.new_page()
    try:
        for name in ("book/notation.html", "notebooks/01_inception_module.html"):
            page.goto((built_book / name).as_uri(), wait_until="load")
            typeset = page.evaluate(WAIT_FOR_MATH)
            page.wait_for_function("() => [...document.querySelectorAll('.math')]"
                                   ".every(m => m.querySelector('mjx-container'))")
            assert typeset > 0, f"{name}: no formula typeset"
            assert page.locator("main").inner_text().count("\\(") == 0
        assert remote == [], f"the offline pages asked the network for {remote}"
    finally:
        context.close()


# Every figure goes through inception_lab.viz.display.show with alt text from its data (CONTRIBUTING.md).
@pytest.mark.parametrize("name", PAGES)
def test_every_image_has_alt_text(facts, name):
    """Alternative text that says something: not empty, not the file's path (myst-nb's default)."""
    missing = [i["src"] for i in facts[name]["images"]
               if not (i["alt"] or "").strip() or i["alt"].strip() == i["src"] or i["alt"].endswith((".png", ".jpg"))]
    assert missing == []
