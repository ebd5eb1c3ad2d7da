"""Our Inception-v3 against torchvision's, same weights, side by side in one run (CPU).

Usage:
    python benchmarks/bench_v3_speed.py [--batch 2] [--reps 7] [--threads 1]

Both models are built with 1000 classes and the auxiliary head; torchvision's ``state_dict`` is loaded into ours
strictly, so the two compute the same function (checked: identical eval outputs). Two measurements, each as
*interleaved* repetitions (ours, theirs, ours, theirs, ...) after one warm-up each, so that a change in the
machine's load hits both alike:

* eval forward: ``model.eval()``, ``torch.no_grad()``, a (batch, 3, 299, 299) input;
* training step: ``model.train()``, forward (main + auxiliary logits), ``inception_loss`` with the auxiliary head
  weighted 0.3 (torchvision's outputs mapped to the same loss), backward, SGD step.

Reports the median time of each and the ratio ours / theirs (> 1: ours is slower). Writes
``benchmarks/results/v3_speed.json`` and ``.md``. A few minutes on one CPU thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torchvision

from inception_lab.models.inception_v3 import inception_v3
from inception_lab.nn.losses import AuxOutputs, inception_loss
from inception_lab.runtime import machine_receipt

RESULTS = Path(__file__).resolve().parent / "results"


def models() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    theirs = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)
    ours = inception_v3(aux_logits=True, init_weights="pytorch")
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def as_aux(outputs) -> AuxOutputs:
    if isinstance(outputs, AuxOutputs):
        return outputs
    return AuxOutputs(outputs.logits, (outputs.aux_logits,))  # torchvision's InceptionOutputs


def eval_step(model, x) -> float:
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        model(x)
    return time.perf_counter() - start


def train_step(model, opt, x, y) -> float:
    model.train()
    start = time.perf_counter()
    loss = inception_loss(as_aux(model(x)), y, aux_weight=0.3)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ours, theirs = models()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 299, 299, generator=g)
    y = torch.randint(0, 1000, (args.batch,), generator=g)
    with torch.no_grad():
        same = torch.equal(ours.eval()(x), theirs.eval()(x))
    times: dict[str, dict[str, list[float]]] = {"eval_forward": {"ours": [], "theirs": []},
                                                "train_step": {"ours": [], "theirs": []}}
    pairs = {"ours": ours, "theirs": theirs}
    for model in pairs.values():  # warm-up
        eval_step(model, x)
    for _ in range(args.reps):
        for name, model in pairs.items():
            times["eval_forward"][name].append(eval_step(model, x))
    opts = {name: torch.optim.SGD(m.parameters(), lr=1e-3) for name, m in pairs.items()}
    for name, model in pairs.items():
        train_step(model, opts[name], x, y)
    for _ in range(args.reps):
        for name, model in pairs.items():
            times["train_step"][name].append(train_step(model, opts[name], x, y))
    summary = {}
    for what, by in times.items():
        med = {name: statistics.median(t) for name, t in by.items()}
        summary[what] = dict(median_s=med, ratio_ours_over_theirs=med["ours"] / med["theirs"])
    record = dict(batch=args.batch, reps=args.reps, threads=args.threads, input=[args.batch, 3, 299, 299],
                  identical_eval_outputs=same, times_s=times, summary=summary, torch=torch.__version__,
                  torchvision=torchvision.__version__, machine=machine_receipt(),
                  date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  command="python benchmarks/bench_v3_speed.py " + " ".join(
                      f"--{k} {v}" for k, v in vars(args).items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "v3_speed.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = ["# Inception-v3: ours vs torchvision, same weights (CPU)", "",
             f"Written by `benchmarks/bench_v3_speed.py` on {record['date']}; torch {torch.__version__}, "
             f"torchvision {torchvision.__version__}, {args.threads} thread(s), {record['machine']['cpu_model']}.", "",
             f"* input {args.batch} x 3 x 299 x 299; {args.reps} interleaved repetitions after one warm-up each; "
             f"medians", f"* identical eval outputs: {same}", "",
             "| measurement | ours (s) | torchvision (s) | ratio ours / theirs |", "|---|---:|---:|---:|"]
    for what, s in summary.items():
        lines.append(f"| {what.replace('_', ' ')} | {s['median_s']['ours']:.3f} | {s['median_s']['theirs']:.3f} | "
                     f"{s['ratio_ours_over_theirs']:.3f} |")
    (RESULTS / "v3_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
