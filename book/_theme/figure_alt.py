"""Sphinx hook: a notebook figure's alternative text, written by the library, on its ``<img>``.

myst-nb 1.4 takes an image's ``alt`` only from cell metadata (``mystnb: image: alt``), one text for every image
of a cell, typed by hand; it drops ``alt`` from the output's own metadata. The library writes the text there
(``inception_lab.viz.display.show``: ``{"image/png": {"alt": ...}}``), so this hook reads each notebook's image
outputs, names them as myst-nb does (the SHA-256 of the image bytes) and copies their text onto the image nodes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
from typing import Any

from docutils import nodes

IMAGE_MIMES = ("image/png", "image/jpeg")


def notebook_alt_texts(path: pathlib.Path) -> dict[str, str]:
    """{sha256 of the image bytes: alt text} for every image output of the notebook at ``path`` that has one."""
    texts = {}
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        for output in cell.get("outputs", []):
            for mime in IMAGE_MIMES:
                alt = output.get("metadata", {}).get(mime, {}).get("alt")
                data = output.get("data", {}).get(mime)
                if alt and data:
                    raw = base64.b64decode("".join(data) if isinstance(data, list) else data)
                    texts[hashlib.sha256(raw).hexdigest()] = alt
    return texts


def notebook_alt_list(path: pathlib.Path) -> list[str | None]:
    """The alt text of every image output the book renders, in order (None where one has none).

    Cells tagged ``remove-cell`` or ``remove-output`` are skipped, as the book skips them.
    """
    texts: list[str | None] = []
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        if {"remove-cell", "remove-output"} & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            mime = next((m for m in IMAGE_MIMES if m in output.get("data", {})), None)
            if mime:
                texts.append(output.get("metadata", {}).get(mime, {}).get("alt"))
    return texts


def _is_output_image(image: nodes.image) -> bool:
    """myst-nb names a notebook output's image file by the SHA-256 of its bytes."""
    return len(pathlib.PurePosixPath(image.get("uri", "")).stem) == 64


def _copy_alt_texts(app: Any, doctree: nodes.document, docname: str) -> None:
    """By image bytes; failing that (``make book`` re-executes, and a measured figure's bytes change from machine to
    machine), by position among the page's output images, when their number equals the notebook's."""
    source = pathlib.Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return
    texts = notebook_alt_texts(source)
    images = [image for image in doctree.findall(nodes.image) if _is_output_image(image)]
    ordered = notebook_alt_list(source)
    by_position = len(ordered) == len(images)
    for k, image in enumerate(images):
        text = texts.get(pathlib.PurePosixPath(image.get("uri", "")).stem) or (ordered[k] if by_position else None)
        if text:
            image["alt"] = text


def setup(app: Any) -> dict:
    app.connect("doctree-resolved", _copy_alt_texts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
