"""Print _config.yml with notebook execution switched on (used by `make book`).

The committed _config.yml renders the notebooks' committed outputs (`execute_notebooks: "off"`): those
outputs are exactly what strict nbval verified in `make test`, so the book build in the tests executes nothing
(`make test` executes each notebook once, under nbval).
`make book` instead re-executes every notebook (cached in _build/.jupyter_cache) so the HTML shows fresh
results. One config file stays the single source of truth; this only flips one key.
"""

import argparse
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--execute", action="store_true", help="execute notebooks (jupyter-cache) while building")
args = parser.parse_args()
config = yaml.safe_load((ROOT / "_config.yml").read_text())
if args.execute:
    config.setdefault("execute", {})["execute_notebooks"] = "cache"
# jupyter-book resolves local_extensions against the config file's folder; the printed config lives elsewhere.
for name, path in config.get("sphinx", {}).get("local_extensions", {}).items():
    config["sphinx"]["local_extensions"][name] = str((ROOT / path).resolve())
yaml.safe_dump(config, sys.stdout, sort_keys=False)
