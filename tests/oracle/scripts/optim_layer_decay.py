"""MMAction2's LearningRateDecayOptimizerConstructor: each parameter's LR and weight decay, for
the wheel's MViT config that uses it (maskfeat, layer-wise decay 0.75 over 16 layers) and for a
VideoMAE ViT under the same rule."""

import copy
import json

import _mma
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS

MVIT = "recognition/mvit/mvit-small-p244_k400-maskfeat-pre_8xb32-16x4x1-100e_kinetics400-rgb.py"
VIT = "recognition/videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py"

out, _ = _mma.args()
settings = {}
for name, rel, from_cfg in (("mvit", MVIT, MVIT), ("vit", VIT, MVIT)):
    cfg = _mma.load_config(rel)
    cfg.model.backbone.pop("pretrained", None)
    cfg.model.backbone.pop("init_cfg", None)
    cfg.model.backbone.pop("pretrained_type", None)  # maskfeat: loads its checkpoint in init
    model = _mma.build_model(cfg.model)
    optim = copy.deepcopy(_mma.load_config(from_cfg).optim_wrapper.to_dict())
    constructor = optim.pop("constructor")
    paramwise = optim.pop("paramwise_cfg", None)
    if name == "vit":
        paramwise["num_layers"] = 12
    wrapper = {"type": "OptimWrapper", "optimizer": optim["optimizer"]}
    built = OPTIM_WRAPPER_CONSTRUCTORS.build(
        {"type": constructor, "optim_wrapper_cfg": wrapper, "paramwise_cfg": paramwise}
    )(model)
    names = {id(p): n for n, p in model.named_parameters()}
    settings[name] = {
        "config": str(_mma.configs_dir() / rel),
        "optim_wrapper": {
            "optimizer": optim["optimizer"],
            "constructor": constructor,
            "paramwise_cfg": paramwise,
        },
        "params": {
            names[id(p)]: [g["lr"], g["weight_decay"]]
            for g in built.optimizer.param_groups
            for p in g["params"]
        },
    }
(out / "settings.json").write_text(json.dumps(settings))
_mma.done(out)
