"""MMAction2's head losses (``BaseHead.loss_by_feat``) for label smoothing and class weights,
single- and multi-label, on fixed logits: what ethoclip's heads must give."""

from __future__ import annotations

import torch
from _mma import args, done, save

LOGITS = [[2.0, -1.0, 0.5], [0.3, 1.2, -0.7]]
SINGLE = [0, 2]
MULTI = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
CASES = {
    "ce": ({"type": "CrossEntropyLoss"}, 0.0, False),
    "ce_smooth": ({"type": "CrossEntropyLoss"}, 0.1, False),
    "ce_weight": ({"type": "CrossEntropyLoss", "class_weight": [1.0, 2.0, 0.5]}, 0.0, False),
    "ce_weight_smooth": ({"type": "CrossEntropyLoss", "class_weight": [1.0, 2.0, 0.5]}, 0.1, False),
    "bce": ({"type": "BCELossWithLogits"}, 0.0, True),
    "bce_smooth": ({"type": "BCELossWithLogits"}, 0.1, True),
    "bce_weight": ({"type": "BCELossWithLogits", "class_weight": [1.0, 2.0, 0.5]}, 0.0, True),
}


def main() -> None:
    out, _ = args()
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    losses = {}
    for name, (loss_cls, eps, multi) in CASES.items():
        head = MODELS.build(
            {
                "type": "I3DHead",
                "num_classes": 3,
                "in_channels": 4,
                "loss_cls": loss_cls,
                "label_smooth_eps": eps,
                "multi_class": multi,
            }
        )
        samples = []
        for i in range(2):
            label = torch.tensor(MULTI[i]) if multi else torch.tensor(SINGLE[i])
            samples.append(ActionDataSample().set_gt_label(label))
        loss = head.loss_by_feat(torch.tensor(LOGITS), samples)["loss_cls"]
        losses[name] = float(loss)
    save(out, "losses", {"logits": LOGITS, "single": SINGLE, "multi": MULTI, "losses": losses})
    done(out)


if __name__ == "__main__":
    main()
