"""Re-execute notebooks in place, top to bottom, with this environment's kernel (`make notebooks`).

Strict nbval later compares these outputs, so execution must be deterministic (the notebooks seed everything) and
must not write timing metadata, or every re-run of an unchanged notebook would be a diff. nbclient's own CLI,
``jupyter execute --inplace``, writes it (``execution`` timestamps in every code cell; it does not pass
``--NotebookClient.record_timing=False`` on to the client), and so does nbmake's ``--overwrite``: hence these lines.
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

for path in map(pathlib.Path, sys.argv[1:]):
    nb, start = nbformat.read(path, as_version=4), time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.perf_counter() - start:.1f} s")
