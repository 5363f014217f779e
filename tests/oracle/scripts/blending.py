"""MMAction2's batch blending (Mixup, CutMix, RandomBatchAugment) on fixed batches and seeds."""

import _mma
import numpy as np
import torch
from _mma import save
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

out, _ = _mma.args()
register_all_modules(init_default_scope=True)
CASES = {
    "mixup": dict(type="MixupBlending", num_classes=5, alpha=0.8),
    "cutmix": dict(type="CutmixBlending", num_classes=5, alpha=1.0),
    "random": dict(
        type="RandomBatchAugment",
        augments=[
            dict(type="MixupBlending", num_classes=5, alpha=0.8),
            dict(type="CutmixBlending", num_classes=5, alpha=1.0),
        ],
        probs=[0.5, 0.3],
    ),
}
gen = torch.Generator().manual_seed(0)
imgs = torch.randn(4, 1, 3, 4, 16, 20, generator=gen)
ids = torch.tensor([0, 3, 1, 4])
multi = (torch.rand(4, 5, generator=gen) > 0.5).float()
save(out, "imgs", imgs)
save(out, "ids", ids)
save(out, "multi", multi)
for name, cfg in CASES.items():
    blend = MODELS.build(cfg)
    for kind, labels in (("ids", ids), ("multi", multi)):
        for seed in range(6):
            samples = []
            for row in labels:
                sample = ActionDataSample()
                sample.set_gt_label(row.view(1) if kind == "ids" else row)
                samples.append(sample)
            torch.manual_seed(seed)
            np.random.seed(seed)
            mixed, samples = blend(imgs.clone(), samples)
            save(out, f"{name}-{kind}-{seed}-imgs", mixed)
            save(out, f"{name}-{kind}-{seed}-labels", torch.stack([s.gt_label for s in samples]))
_mma.done(out)
