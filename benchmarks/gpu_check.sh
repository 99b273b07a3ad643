#!/usr/bin/env bash
# One-shot GPU check (< 8 minutes on one GPU): the gpu_speed table (deepnet vs a plain torch
# loop, W1-W5 and the CIFAR-shaped ResNet), DDP world-size-1 NCCL overhead, bf16 and
# torch.compile rows, and the CUDA no-host-sync check. Writes everything under ${OUT:-gpu_check}.
set -u
OUT=${OUT:-gpu_check}
mkdir -p "$OUT"
PY=${PY:-python}
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
timeout 240 $PY benchmarks/gpu_speed.py --device cuda --repeats 2 --ddp 2>&1 | tee "$OUT/gpu_speed_fp32.txt"
timeout 90 $PY benchmarks/gpu_speed.py --device cuda --repeats 1 --max-epochs 3 --precision mixed_bfloat16 \
    --workloads W5,RESNET 2>&1 | tee "$OUT/gpu_speed_bf16.txt"
timeout 90 $PY benchmarks/gpu_speed.py --device cuda --repeats 1 --max-epochs 3 --jit --workloads W1,W5,RESNET \
    2>&1 | tee "$OUT/gpu_speed_jit.txt"
# No host synchronisation per step: count cudaStreamSynchronize/cudaMemcpy DtoH during fit's steps.
timeout 60 $PY - <<'PY' 2>&1 | tee "$OUT/host_sync.txt"
import numpy as np, torch, deepnet as dn
from torch.profiler import profile, ProfilerActivity
m = dn.Sequential([dn.layers.Input((40,)), dn.layers.Dense(256, activation="relu"), dn.layers.Dense(10)])
m.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
x, y = np.random.rand(12800, 40).astype("float32"), np.random.randint(0, 10, 12800)
m.fit(x, y, batch_size=128, epochs=1, verbose=0)
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
    m.fit(x, y, batch_size=128, epochs=1, verbose=0)
syncs = [e for e in prof.events() if "Synchronize" in e.name or "DtoH" in e.name or "item" in e.name]
print(f"steps: 100, host syncs / device-to-host copies during fit: {len(syncs)} (want a few per epoch, not per step)")
PY
echo "done: $OUT"
