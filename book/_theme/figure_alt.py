"""Sphinx hook: a notebook figure's alternative text, written by the library, on its ``<img>``.

myst-nb 1.4 takes an image's ``alt`` only from cell metadata (``mystnb: image: alt``), one text for every image
of a cell, typed by hand; it drops ``alt`` from the output's own metadata. The library writes the text there
(``inception_lab.notebook.show``: ``{"image/png": {"alt": ...}}``), so this hook reads each notebook's image
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


def _copy_alt_texts(app: Any, doctree: nodes.document, docname: str) -> None:
    source = pathlib.Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return
    texts = notebook_alt_texts(source)
    for image in doctree.findall(nodes.image):
        text = texts.get(pathlib.PurePosixPath(image.get("uri", "")).stem)
        if text:
            image["alt"] = text


def setup(app: Any) -> dict:
    app.connect("doctree-resolved", _copy_alt_texts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
