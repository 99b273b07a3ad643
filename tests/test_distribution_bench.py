"""benchmarks/gpu_speed.py runs on the CPU in its --quick form (the GPU table is measured by
benchmarks/gpu_check.sh where a GPU exists)."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))

import gpu_speed  # noqa: E402


def test_gpu_speed_quick_on_cpu(capsys):
    rows = gpu_speed.main(["--device", "cpu", "--quick", "--workloads", "W1,RESNET", "--ddp"])
    assert [r["workload"] for r in rows] == ["W1", "RESNET"]
    for r in rows:
        assert r["ratio"] > 0 and r["deepnet_img_s"] > 0 and "ddp_overhead" in r
    assert "| RESNET |" in capsys.readouterr().out
