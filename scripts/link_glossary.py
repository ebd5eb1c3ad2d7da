"""Link each glossary term from the chapters that introduce it: its first mention becomes {term}`...`.

Usage:
    python scripts/link_glossary.py [--check] notebooks/*.ipynb

``book/glossary.md`` lists every term the chapters define, each ending with "(Chapter N.)" or "(Chapters N, M.)".
In each of those chapters this script turns the first plain mention of the term in a markdown cell (outside
headings, code, math, links and roles) into a glossary link. It is idempotent: a chapter that already links a term
is left alone. ``--check`` reports missing links and exits 1 (the tests run it).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"

#: Spans of markdown that must not be touched: roles with their content, code, math, links, HTML.
PROTECTED = re.compile(r"\{[a-z:-]+\}`[^`]*`|``[^`]*``|`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$|\[[^\]]*\]\([^)]*\)|<[^>]+>",
                       re.S)


def glossary_terms() -> dict[str, list[int]]:
    """Term -> the chapters its entry names, read from ``book/glossary.md``."""
    body = GLOSSARY.read_text().split(":::{glossary}", 1)[1].split("\n:::", 1)[0]
    terms: dict[str, list[int]] = {}
    for entry in re.split(r"\n(?=\S)", body.strip()):
        term, _, text = entry.partition("\n")
        chapters = re.search(r"\(Chapters? ([0-9, ]+)\.\)\s*$", text)
        if chapters is None:
            raise SystemExit(f"glossary entry {term!r} does not end with '(Chapter N.)'")
        terms[term.strip()] = [int(n) for n in chapters.group(1).split(",")]
    return terms


def chapter_number(path: pathlib.Path) -> int:
    return int(path.name[:2])


def _pattern(term: str) -> re.Pattern[str]:
    """The term as a word, any case for its first letter, optionally plural."""
    first, rest = term[0], re.escape(term[1:])
    return re.compile(rf"(?<![\w`-])([{first.lower()}{first.upper()}]{rest}(?:e?s)?)(?![\w`-])")


def link_first_mention(cells: list, term: str) -> bool:
    """Turn the first plain mention of ``term`` in a markdown cell into a glossary link; False when none.

    An identifier-like term (``channels_last``) is written as code in the chapters: its first code span is linked.
    """
    pattern = re.compile(rf"`({re.escape(term)})`") if "_" in term else _pattern(term)
    for cell in cells:
        if cell.cell_type != "markdown" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        lines = cell.source.split("\n")
        for n, line in enumerate(lines):
            if line.lstrip().startswith(("#", ":::", "|", "```")):
                continue
            protected = [m.span() for m in PROTECTED.finditer(line)]
            for match in pattern.finditer(line):
                if "_" not in term and any(a <= match.start() < b for a, b in protected):
                    continue
                text = match.group(1)
                role = f"{{term}}`{text}`" if text == term else f"{{term}}`{text} <{term}>`"
                lines[n] = line[:match.start()] + role + line[match.end():]
                cell.source = "\n".join(lines)
                return True
    return False


def links(cells: list, term: str) -> bool:
    """Whether some markdown cell already links ``term``."""
    role = re.compile(rf"\{{term\}}`(?:{re.escape(term)}|[^`<]*<{re.escape(term)}>)`")
    return any(c.cell_type == "markdown" and role.search(c.source) for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--check", action="store_true", help="report missing links; change nothing")
    args = parser.parse_args()
    terms = glossary_terms()
    missing = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        changed = False
        for term, chapters in terms.items():
            if chapter_number(path) not in chapters or links(nb.cells, term):
                continue
            if args.check or not link_first_mention(nb.cells, term):
                missing.append(f"{path.name}: {term}")
                continue
            changed = True
        if changed:
            nbformat.write(nb, path)
            print(f"linked glossary terms in {path}")
    if missing:
        print("glossary terms not linked from the chapter their entry names:", *missing, sep="\n  ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
