"""Serve the built book on a loopback HTTP server: ``python scripts/serve_book.py [_build/html]``.

The live explorers need ``http://`` (Pyodide and ``fetch()`` do not work from ``file://``). The browser tests
(``tests/conftest.py``, fixture ``served_book``) and ``benchmarks/bench_live_explorers.py`` use :func:`serve`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import pathlib
import threading
from collections.abc import Iterator


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test and benchmark output clean
        pass


@contextlib.contextmanager
def serve(folder: str | pathlib.Path, port: int = 0) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (``port=0``: a free port) from a background thread; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=pathlib.Path(__file__).resolve().parents[1] / "_build" / "html")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with serve(args.folder, args.port) as url:
        print(f"serving {args.folder} at {url}/index.html (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
