"""Runs INSIDE MMAction2 1.2.0's venv (``tests/oracle/build_mmaction2.sh``): eval forward time
of each case of ``mma_forward_cases.py``, best of N after a warm-up; JSON on stdout."""

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import mmaction
from mma_forward_cases import CASES, weights_off
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config

register_all_modules(init_default_scope=True)
repeat, names = int(sys.argv[1]), sys.argv[2].split(",")
configs = Path(mmaction.__file__).parent / ".mim" / "configs"
torch.set_num_threads(int(sys.argv[3]))
out = {}
for name in names:
    rel, shape = CASES[name]
    cfg = Config.fromfile(str(configs / rel))
    torch.manual_seed(0)
    model = MODELS.build(weights_off(cfg.model.to_dict())).eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        model(x, mode="tensor")
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            model(x, mode="tensor")
            best = min(best, time.perf_counter() - t0)
    out[name] = best
print(json.dumps(out))
