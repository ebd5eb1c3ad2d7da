"""The book builds with zero warnings (-W) from the committed, nbval-verified outputs, and renders them."""

import pathlib
import re

import pytest
import yaml

from inception_lab import cost

ROOT = pathlib.Path(__file__).resolve().parents[1]


def page(html_root, name):
    return (html_root / name).read_text(encoding="utf-8")


def toc_pages():
    """Every file of the table of contents, as the HTML page the build makes of it."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    return [f"{name}.html" for name in files]


def test_every_toc_page_is_rendered(built_book):
    pages = toc_pages()
    assert len(pages) >= 10
    for name in pages:
        assert (built_book / name).exists(), name


def test_chapter_1_shows_computed_numbers_and_figures(built_book):
    html = page(built_book, "notebooks/01_inception_module.html")
    assert "{glue" not in html, "an unresolved glue role"
    # glued MACs of the naive and reduced (3a), as cost.compare_inception_modules computes them
    naive_and_reduced = cost.compare_inception_modules(192, 28, 64, 96, 128, 16, 32, 32)
    assert [f"{naive_and_reduced[k].total.macs:,}" for k in ("naive", "reduced")] == ["303,464,448", "128,049,152"]
    assert "303,464,448" in html and "128,049,152" in html
    assert len(re.findall(r'<img[^>]+src="[^"]+\.png"', html)) >= 4
    assert "Szegedy" in html  # citations resolved


@pytest.mark.parametrize("chapter", [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))])
def test_exercises_dropdown_solutions_and_glue(built_book, chapter):
    html = page(built_book, f"notebooks/{chapter}.html")
    assert html.count('class="exercise admonition"') >= 3
    assert html.count('class="solution dropdown admonition"') == html.count('class="exercise admonition"')
    assert "{glue" not in html, "an unresolved glue role"


def test_launch_buttons(built_book):
    html = page(built_book, "notebooks/01_inception_module.html")
    assert "colab.research.google.com/github/" in html and "mybinder.org" in html


def test_bibliography_lists_the_three_papers(built_book):
    html = page(built_book, "book/bibliography.html").lower()
    for title in ["going deeper with convolutions", "batch normalization", "rethinking the inception"]:
        assert title in html


@pytest.mark.parametrize("name", toc_pages())
def test_markdown_tables_a_cell_displays_render_as_tables(built_book, name):
    """A table a cell displays as Markdown (display(Markdown(...))) renders as an HTML table, not as a paragraph of
    pipes (myst-nb's default CommonMark renderer has no tables: `nb_render_markdown_format: myst` in _config.yml)."""
    html = page(built_book, name)
    raw = re.findall(r'<div class="cell_output[^>]*>\s*<p>(\|[^\n]{0,80})', html)
    assert raw == [], f"{len(raw)} Markdown table(s) rendered as text on {name}: {raw[:3]}"
