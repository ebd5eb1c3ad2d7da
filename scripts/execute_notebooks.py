"""Re-execute notebooks in place, top to bottom, with the kernel of this environment (`make notebooks`).

Outputs are what strict nbval later compares, so execution must be deterministic: the notebooks seed
everything themselves. Timing metadata is not recorded, so re-running an unchanged notebook gives no diff.
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

for path in map(pathlib.Path, sys.argv[1:]):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.perf_counter() - start:.1f} s")
