"""Checks the GPU path of the library on a CUDA machine and records what it measured.

Run on a machine with an NVIDIA GPU:  python benchmarks/gpu_check.py [--out DIR]
It exercises what the chapters do, on CUDA: device selection, cost counting of models living on the GPU,
feature capture, the scratch BatchNorm, BN folding, GoogLeNet CPU/GPU agreement, and a short mixed-precision
training run of the mini networks. It writes gpu_check.json and gpu_check.md (machine described) to --out
(default benchmarks/results). Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time

import torch

from inception_lab import cost, data, train
from inception_lab.experiments.features import capture_branches
from inception_lab.experiments.timing import time_modules
from inception_lab.models import bn_inception, googlenet
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.nn.folding import fold_batchnorm
from inception_lab.runtime import describe_device, machine_receipt, pick_device, seed_everything

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
parser.add_argument("--epochs", type=int, default=4)
args = parser.parse_args()

device = pick_device()
assert device.type == "cuda", f"this check needs CUDA, got {device}"
torch.backends.cudnn.allow_tf32 = False  # compare CPU and GPU in true float32
torch.backends.cuda.matmul.allow_tf32 = False
results: dict[str, object] = {"device": describe_device(device), "torch": torch.__version__,
                              "python": platform.python_version(), "machine": machine_receipt()}
checks: dict[str, bool] = {}

# 1. count() on a model that lives on the GPU equals the CPU count.
net = googlenet.googlenet_tv(aux_logits=False).eval()
cpu_report = cost.count(net, (1, 3, 224, 224))
gpu_report = cost.count(net.to(device), (1, 3, 224, 224))
checks["count on cuda == count on cpu"] = (gpu_report.params, gpu_report.macs) == (cpu_report.params, cpu_report.macs)
results["googlenet_tv"] = {"params": gpu_report.params, "macs": gpu_report.macs}

# 2. GoogLeNet outputs agree between CPU and GPU (paper preset: its init gives logits of a useful size).
seed_everything(0)
x = torch.randn(8, 3, 224, 224)
paper = googlenet.googlenet(aux_logits=False).eval()
with torch.no_grad():
    out_cpu = paper(x)
    out_gpu = paper.to(device)(x.to(device)).cpu()
diff = (out_gpu - out_cpu).abs().max().item()
results["googlenet cpu-vs-cuda: max abs diff, logits std"] = [diff, out_cpu.std().item()]
checks["googlenet cpu == cuda (diff < 1e-4 x logits std)"] = out_cpu.std().item() > 0 and \
    diff < 1e-4 * out_cpu.std().item()

# 3. Feature capture returns CPU tensors from a CUDA model.
net = net.to(device)
maps = capture_branches(net, x[:1].to(device), "inception3a")
checks["capture_branches from cuda"] = all(m.device.type == "cpu" for m in maps.values()) and \
    sum(m.shape[1] for m in maps.values()) == 256

# 4. Scratch BatchNorm equals nn.BatchNorm2d on CUDA (train step, then eval).
ref = torch.nn.BatchNorm2d(16).to(device)
mine = ScratchBatchNorm2d(16).to(device)
z = torch.randn(32, 16, 8, 8, device=device) * 3 + 1
ok = torch.allclose(ref(z), mine(z), atol=1e-5)
ref.eval(), mine.eval()
ok &= torch.allclose(ref(z), mine(z), atol=1e-5)
checks["ScratchBatchNorm2d == nn.BatchNorm2d on cuda"] = bool(ok)

# 5. BN folding on CUDA: same outputs; latency of bn_inception, batch 64, before and after.
model = bn_inception.bn_inception().to(device).eval()
folded = fold_batchnorm(model)
xb = torch.randn(64, 3, 224, 224, device=device)
with torch.no_grad():
    fold_diff = (model(xb) - folded(xb)).abs().max().item()
checks["fold_batchnorm on cuda (atol 1e-3)"] = fold_diff < 1e-3


# Interleaved, with CUDA synchronised before each clock reading (time_modules).
timings = time_modules({"unfolded": model, "folded": folded}, xb, reps=30, warmup=5, modes=("forward",))
results["bn_inception batch 64 fp32 latency ms (unfolded, folded)"] = [timings.median_ms("unfolded"),
                                                                         timings.median_ms("folded")]

# 6. Mixed-precision training of the mini networks on the synthetic data (the chapters' experiment, on a GPU).
train_set, test_set = data.make_splits(4000, 1000, image_size=32, seed=0)
train_loader, test_loader = data.loaders(train_set, test_set, batch_size=128, seed=0)
for name, build in [("mini_googlenet", lambda: googlenet.mini_googlenet(aux_logits=True)),
                    ("mini_bn_inception", lambda: bn_inception.mini_bn_inception())]:
    seed_everything(0)
    history, receipt = train.fit(build(), train_loader, epochs=args.epochs, lr=3e-3, optimizer="adam",
                                 val_loader=test_loader, device=device, amp=True, seed=0, progress=False)
    results[name] = {"val_acc": [round(a, 4) for a in history.val_acc], "amp": receipt.amp,
                     "wall_s": round(receipt.wall_time_s, 2)}
    checks[f"{name} trains on cuda with amp"] = receipt.amp != "off" and all(
        torch.isfinite(torch.tensor(history.train_loss)))

results["checks"] = checks
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
(out / "gpu_check.json").write_text(json.dumps(results, indent=2))
written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
lines = ["# GPU check\n", f"Written by `benchmarks/gpu_check.py` on {written}.\n",
         f"* device: {results['device']}; torch {results['torch']}; Python {results['python']}; CPU "
         f"{results['machine']['cpu_model']}",
         "* TF32 disabled for the CPU/GPU comparisons\n", "| check | passed |", "|---|---|"]
lines += [f"| {k} | {'yes' if v else 'NO'} |" for k, v in checks.items()]
lines += ["", "| measurement | value |", "|---|---|"]
lines += [f"| {k} | {v} |" for k, v in results.items() if k not in ("checks", "device", "torch", "python", "machine")]
(out / "gpu_check.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
raise SystemExit(0 if all(checks.values()) else 1)
