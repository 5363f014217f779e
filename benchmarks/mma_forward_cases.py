"""One wheel config per MMAction2 family and the input both sides time it on (shared by
``bench_models.py --mmaction`` and ``_mma_forward.py``, which runs inside the oracle venv).

Inputs are one view, already normalised float (MMAction2's ``mode='tensor'`` skips its data
preprocessor; ethoclip's side is given the same tensor with ``normalised=True``). Sizes are
the ones the architecture fixes (position embeddings, C3D's linear layers) or, where it fixes
none, 8 frames at 160² to keep two CPU cores to seconds per model.
"""

from __future__ import annotations

from typing import Any

R = "recognition/"
CASES: dict[str, tuple[str, tuple[int, ...]]] = {
    "tsn": (
        R + "tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py",
        (1, 8, 3, 160, 160),
    ),
    "tsm": (
        R + "tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py",
        (1, 8, 3, 160, 160),
    ),
    "tsm_mobileone": (  # the head averages 16 segments; the backbone shifts within 8
        R + "tsm/tsm_imagenet-pretrained-mobileone-s4_8xb16-1x1x16-50e_kinetics400-rgb.py",
        (1, 16, 3, 160, 160),
    ),
    # MMAction2 cannot run TIN on a CPU (mmcv-lite has no tin_shift op): ethoclip's side only.
    "tin": (R + "tin/tin_imagenet-pretrained-r50_8xb6-1x1x8-40e_sthv1-rgb.py", (1, 8, 3, 160, 160)),
    "tanet": (
        R + "tanet/tanet_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py",
        (1, 8, 3, 160, 160),
    ),
    "trn": (
        R + "trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb.py",
        (1, 8, 3, 160, 160),
    ),
    "tpn": (
        R + "tpn/tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb.py",
        (1, 8, 3, 160, 160),
    ),
    "c2d": (
        R + "c2d/c2d_r50-in1k-pre-nopool_8xb32-8x8x1-100e_kinetics400-rgb.py",
        (1, 8, 3, 160, 160),  # Recognizer2D: 8 frames as views
    ),
    "i3d": (
        R + "i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py",
        (1, 1, 3, 8, 160, 160),
    ),
    "slowonly": (
        R + "slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py",
        (1, 1, 3, 8, 160, 160),
    ),
    "slowfast": (
        R + "slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py",
        (1, 1, 3, 32, 160, 160),
    ),
    "csn": (
        R + "csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb.py",
        (1, 1, 3, 8, 160, 160),
    ),
    "r2plus1d": (
        R + "r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py",
        (1, 1, 3, 8, 160, 160),
    ),
    "c3d": (
        R + "c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py",
        (1, 1, 3, 16, 112, 112),
    ),
    "x3d": (R + "x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py", (1, 1, 3, 13, 160, 160)),
    "timesformer": (
        R + "timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py",
        (1, 1, 3, 8, 224, 224),
    ),
    "swin": (
        R + "swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py",
        (1, 1, 3, 8, 160, 160),
    ),
    "videomaev2": (
        R + "videomaev2/vit-small-p16_videomaev2-vit-g-dist-k710-pre_16x4x1_kinetics-400.py",
        (1, 1, 3, 16, 224, 224),
    ),
    "mvit": (
        R + "mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py",
        (1, 1, 3, 16, 224, 224),
    ),
    "uniformer": (
        R + "uniformer/uniformer-small_imagenet1k-pre_16x4x1_kinetics400-rgb.py",
        (1, 1, 3, 16, 160, 160),
    ),
    "uniformerv2": (
        R + "uniformerv2/uniformerv2-base-p16-res224_clip_8xb32-u8_kinetics400-rgb.py",
        (1, 1, 3, 8, 224, 224),
    ),
}
WEIGHTS_OFF: dict[str, Any] = {
    "pretrained": None,
    "pretrained2d": False,
    "clip_pretrained": False,
    "init_cfg": None,
}


def weights_off(value: Any) -> Any:
    """The model config with every pretrained-weight key off (no network here)."""
    if isinstance(value, dict):
        out = {
            k: (WEIGHTS_OFF[k] if k in WEIGHTS_OFF else weights_off(v)) for k, v in value.items()
        }
        if out.get("type") == "UniFormerV2":
            out["clip_pretrained"] = False
        return out
    if isinstance(value, list):
        return [weights_off(v) for v in value]
    return value
