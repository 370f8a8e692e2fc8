"""TokenPOTrainer under `accelerate launch` with two CPU processes: ranks stay in sync.

accelerate 1.x sends `--cpu` to its single-process launcher, so two CPU processes are
started with `--multi_gpu --num_processes 2` (torchrun) while the script's config says
`use_cpu=True`: Accelerate then runs MULTI_CPU over gloo, with no GPU involved.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("accelerate_token_po_script.py")


@pytest.mark.parametrize(
    "config",
    [
        {"method": "tdpo2", "use_fused_kernels": True},
        {"method": "sparsepo", "sparsepo_mask": "learned", "sparsepo_mask_init": "normal"},
    ],
    ids=["tdpo2-fused", "sparsepo-learned-masks"],
)
def test_two_cpu_processes_train_in_sync(tmp_path, config):
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(SCRIPT),
        str(tmp_path),
        json.dumps(config),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1)]
    assert all(r["world_size"] == 2 for r in ranks)
    assert ranks[0]["checksum"] == ranks[1]["checksum"], "DDP kept the replicas identical"
    assert ranks[0]["checksum"] != ranks[0]["initial"], "the policy was updated"
    assert ranks[0]["losses"] and all(math.isfinite(x) for x in ranks[0]["losses"])
    assert ranks[0]["mask_checksum"] == ranks[1]["mask_checksum"], "masks stayed in sync"
