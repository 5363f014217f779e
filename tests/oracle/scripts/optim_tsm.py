"""MMAction2's TSMOptimWrapperConstructor: each parameter's LR and weight decay, for TSM, TSN
and TRN configs of the wheel (fc_lr5 on and off)."""

import copy
import json

import _mma
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS

CASES = {
    "tsm_fc_lr5": "recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py",
    "tsm_mobilenetv2": (
        "recognition/tsm/tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py"
    ),
    "trn": "recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py",
}

out, _ = _mma.args()
settings = {}
for name, rel in CASES.items():
    cfg = _mma.load_config(rel)
    cfg.model.backbone.pretrained = None
    if cfg.model.backbone.type in ("ResNetTSM", "MobileNetV2TSM"):
        cfg.model.backbone.pretrained2d = False  # with pretrained=None MMAction2 would load None
    model = _mma.build_model(cfg.model)
    optim = copy.deepcopy(cfg.optim_wrapper.to_dict())
    constructor = optim.pop("constructor")
    paramwise = optim.pop("paramwise_cfg", None)
    wrapper = {"type": "OptimWrapper", "optimizer": optim["optimizer"]}
    built = OPTIM_WRAPPER_CONSTRUCTORS.build(
        {"type": constructor, "optim_wrapper_cfg": wrapper, "paramwise_cfg": paramwise}
    )(model)
    names = {id(p): n for n, p in model.named_parameters()}
    settings[name] = {
        "config": str(_mma.configs_dir() / rel),
        "constructor": constructor,
        "params": {
            names[id(p)]: [g["lr"], g["weight_decay"]]
            for g in built.optimizer.param_groups
            for p in g["params"]
        },
    }
(out / "settings.json").write_text(json.dumps(settings))
_mma.done(out)
