"""Write the README's "How close to this CPU's limit" block from ``benchmarks/results/perf.json``.

Usage:
    python scripts/readme_perf.py           # rewrite the block between the README's perf markers
    python scripts/readme_perf.py --check   # exit 1 if the README's block differs from the results file

The block quotes the performance suite's headline numbers (issue 22): each full-size preset's MACs per second as a
fraction of the CPU's measured compute peak, where Inception-v3's time goes by kind of layer, and ours against
torchvision with the same weights. Every number comes from the results file, so the README cannot drift from what
``benchmarks/bench_perf.py`` recorded; ``tests/test_readme.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "perf.json"
README = ROOT / "README.md"
START, END = "<!-- perf:start (scripts/readme_perf.py writes this block) -->", "<!-- perf:end -->"
#: The presets the README quotes. Not inception_v2 or inception_v3_paper: their module A became Fig. 5's after
#: perf.json was recorded, so their rows wait for the next ``make bench-perf`` (chapter 6 leaves them out too).
PRESETS = ("googlenet_tv", "bn_inception", "inception_v3")
KINDS = ("conv 3x3", "conv 1x7/7x1", "conv 1x1", "pooling", "batchnorm")


def block(perf: dict) -> str:
    """The README block: headline ratios read from the performance suite's results (CPU time clock)."""
    limits = perf["limits"]["cpu"]
    machine = perf["machine"]
    lines = [START, "",
             f"Measured by `benchmarks/bench_perf.py` on {perf['date']} ({machine['cpu_model']}, "
             f"{machine['logical_cpus']} logical CPUs, {perf['threads']} thread, torch {machine['torch_version']}, "
             f"inception_lab {perf['inception_lab_version']}; load average {machine['load_average_before'][0]:.1f} "
             "before the run, so ratios, measured interleaved on CPU time, are fairer than absolute times). "
             f"The compute peak is the best of a large matmul and a large 3×3 convolution: "
             f"{limits['peak_macs_per_s'] / 1e9:.1f} GMAC/s; the copy bandwidth "
             f"{limits['peak_bytes_per_s'] / 1e9:.1f} GB/s. Full tables: `benchmarks/results/perf.md`.", "",
             "| network | forward (eval) / peak | training step / peak |", "|---|---:|---:|"]
    for name in PRESETS:
        rates = perf["preset_rates"][name]
        lines.append(f"| {name} | {rates['eval_peak_fraction_cpu']:.2f} | {rates['train_peak_fraction_cpu']:.2f} |")
    kinds = {row["kind"]: row for row in perf["layer_kind_rates"]["contiguous"]}
    shares = "; ".join(f"{k} {100 * kinds[k]['time_share']:.0f} % of the time for {100 * kinds[k]['mac_share']:.0f} % "
                       f"of the MACs ({kinds[k]['peak_fraction']:.2f} of the peak)" if kinds[k]["macs"] else
                       f"{k} {100 * kinds[k]['time_share']:.0f} % of the time for no MACs" for k in KINDS)
    lines += ["", f"Inception-v3's eval forward by kind of layer: {shares}.", ""]
    versus = perf["versus_ratios"]
    pairs = [(net, what) for net in ("googlenet_tv", "inception_v3")
             for what in ("eval ours vs torchvision", "train ours vs torchvision", "eval channels_last")]
    lines.append("Speed ratios (> 1: ours, or ours with the option, is faster; median of interleaved repetitions): "
                 + "; ".join(f"{net} {what} {versus[net][what]['cpu']['median']:.3f}" for net, what in pairs) + ".")
    misses = [(net, what, versus[net][what]["cpu"]) for net, what in pairs
              if "torchvision" in what and versus[net][what]["cpu"]["median"] < 1.0]
    if misses:
        lines += ["", "Below the target of 1.0 (ours at least as fast as torchvision): " + "; ".join(
            f"{net} {what.split()[0]} {r['median']:.3f} (repetitions {r['min']:.2f}-{r['max']:.2f}"
            + (", a range that contains 1.0: not told apart from equal speed under this load)" if r["max"] >= 1.0
               else ", every repetition slower: a real miss)") for net, what, r in misses)
            + "." + (" Both networks run the same convolution kernels as torchvision's modules; a difference would"
                     " have to come from the Python around them, and none shows above the noise."
                     if all(r["max"] >= 1.0 for _, _, r in misses) else "")]
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when the README is stale")
    args = parser.parse_args(argv)
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"README.md has no perf markers: add the lines {START!r} and {END!r} where the block goes")
        return 1
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = head + block(json.loads(RESULTS.read_text())) + tail
    if args.check:
        if updated != readme:
            print("README.md's perf block differs from benchmarks/results/perf.json: run python scripts/readme_perf.py")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
