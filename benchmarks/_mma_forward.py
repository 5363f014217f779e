"""Runs INSIDE MMAction2 1.2.0's venv (``tests/oracle/build_mmaction2.sh``): one case of
``mma_forward_cases.py`` kept warm, timed on request, so that ``bench_models.py --mmaction``
can interleave its rounds with ethoclip's.

    python _mma_forward.py NAME THREADS

Builds the model, runs one warm-up forward, prints ``ready``; then for each ``run`` line on
stdin times one forward and prints its seconds; stops at ``quit`` or end of input.

The forward is MMAction2's own test path up to the logits: ``extract_feat(test_mode=True)``
(backbone and neck, ``fcn_test``/``max_testing_views`` as the config says) and the head's
forward — what ``predict`` runs before ``average_clip``. (``mode='tensor'`` would stop after
the backbone, leaving out the neck and head that ethoclip's side computes.)
"""

import os
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

# The replies go to the real stdout; anything MMAction2 or its libraries print goes to stderr,
# so that a stray line cannot be read as a reply.
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
register_all_modules(init_default_scope=True)
name, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
rel, shape = CASES[name]
cfg = Config.fromfile(str(Path(mmaction.__file__).parent / ".mim" / "configs" / rel))
torch.manual_seed(0)
model = MODELS.build(weights_off(cfg.model.to_dict())).eval()
x = torch.randn(*shape)


def logits() -> torch.Tensor:
    feats, kwargs = model.extract_feat(x, test_mode=True)
    return model.cls_head(feats, **kwargs)


with torch.no_grad():
    logits()
    print("ready", file=replies, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        logits()
        print(time.perf_counter() - start, file=replies, flush=True)
