"""The README's measured numbers follow the results files they quote."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conftest import load_module

ROOT = Path(__file__).resolve().parent.parent


def test_readme_perf_block_matches_the_results_file():
    assert load_module("scripts/readme_perf.py").main(["--check"]) == 0


def test_perf_block_reads_every_number_from_the_file():
    module = load_module("scripts/readme_perf.py")
    perf = json.loads((ROOT / "benchmarks" / "results" / "perf.json").read_text())
    changed = copy.deepcopy(perf)
    changed["preset_rates"]["inception_v3"]["eval_peak_fraction_cpu"] = 0.123
    changed["versus_ratios"]["inception_v3"]["eval ours vs torchvision"]["cpu"].update(median=0.5, max=0.9)
    text = module.block(changed)
    assert "| inception_v3 | 0.12 |" in text and text != module.block(perf)
    assert "0.500" in text and "a real miss" in text and "none shows above the noise" not in text
