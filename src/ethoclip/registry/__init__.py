"""Every ``type=`` name a config can use, filled when this module is imported.

The names are MMAction2's where MMAction2 has one (``Recognizer2D``, ``SampleFrames``,
``AccMetric`` …); each is implemented on torchvision, transformers, PyAV and Lightning.
``REGISTRY.build(cfg)`` makes the object. Importing this module does not import torch.
"""

from __future__ import annotations

import functools

from ._registry import Entry, Registry, building, check_arguments, config_error, current_key

MODELS = Registry("models")
DATASETS = Registry("datasets")
TRANSFORMS = Registry("transforms")
DATA_SAMPLERS = Registry("samplers")
METRICS = Registry("metrics")
HOOKS = Registry("hooks")
LOOPS = Registry("loops")
OPTIM_WRAPPERS = Registry("optim_wrappers")


@functools.cache
def _torch_classes(module_name: str, base_name: str) -> dict[str, Entry]:
    """Every public class of a torch module that derives from ``base_name`` (imports torch)."""
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    base = getattr(module, base_name)
    found = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or not inspect.isclass(obj) or obj is base:
            continue
        if issubclass(obj, base):
            doc = (inspect.getdoc(obj) or "").split("\n")[0].rstrip(".")
            found[name] = Entry(name, f"{module_name}:{name}", f"torch: {doc}"[:90])
    return found


OPTIMIZERS = Registry("optimizers", fallback=lambda: _torch_classes("torch.optim", "Optimizer"))
PARAM_SCHEDULERS = Registry(
    "schedulers", fallback=lambda: _torch_classes("torch.optim.lr_scheduler", "LRScheduler")
)

REGISTRIES = {
    "models": MODELS,
    "datasets": DATASETS,
    "transforms": TRANSFORMS,
    "samplers": DATA_SAMPLERS,
    "optimizers": OPTIMIZERS,
    "optim_wrappers": OPTIM_WRAPPERS,
    "schedulers": PARAM_SCHEDULERS,
    "metrics": METRICS,
    "hooks": HOOKS,
    "loops": LOOPS,
}

_M = "ethoclip.models"
for name, target, text in [
    (
        "Recognizer2D",
        f"{_M}._recognizers:Recognizer2D",
        "per-frame backbone + segment consensus (TSN)",
    ),
    (
        "Recognizer3D",
        f"{_M}._recognizers:Recognizer3D",
        "clip backbone (3D CNN, video transformer)",
    ),
    ("ResNet", f"{_M}._backbones:ResNet", "torchvision ResNet-18/34/50/101/152, per frame"),
    (
        "ResNet2Plus1d",
        f"{_M}._backbones:ResNet2Plus1d",
        "torchvision R(2+1)D-18 (Kinetics weights)",
    ),
    ("ResNet3d", f"{_M}._backbones:ResNet3d", "torchvision R3D-18 (Kinetics weights)"),
    ("SwinTransformer3D", f"{_M}._backbones:SwinTransformer3D", "torchvision Video Swin T/S/B"),
    ("TimeSformer", f"{_M}._transformers:TimeSformer", "transformers' TimeSformer (divided ST)"),
    ("VisionTransformer", f"{_M}._transformers:VisionTransformer", "transformers' VideoMAE ViT"),
    ("TinyVideoNet", f"{_M}._backbones:TinyVideoNet", "a small 3D CNN for CPUs, tests, the demo"),
    (
        "MotionNet",
        f"{_M}.backbones.motionnet:MotionNet",
        "frames + motion + foreground, (2+1)D, for CPUs without weights (the default)",
    ),
    ("TSNHead", f"{_M}._heads:TSNHead", "spatial pool, segment consensus, dropout, linear"),
    ("TimeSformerHead", f"{_M}._heads:TimeSformerHead", "dropout + linear on the class token"),
    ("I3DHead", f"{_M}._heads:I3DHead", "spatio-temporal pool, dropout, linear"),
    ("LinearHead", f"{_M}._heads:LinearHead", "pool whatever comes, dropout, linear"),
    ("AvgConsensus", f"{_M}._heads:AvgConsensus", "mean over segments (TSN)"),
    ("BCELossWithLogits", f"{_M}._losses:BCELossWithLogits", "multi-label loss (sigmoid + BCE)"),
    ("CrossEntropyLoss", f"{_M}._losses:CrossEntropyLoss", "single-label loss (softmax + CE)"),
    (
        "ActionDataPreprocessor",
        f"{_M}._preprocessor:ActionDataPreprocessor",
        "stack uint8 clips, move to the device, normalise there",
    ),
]:
    MODELS.register(name, target, text)

_D = "ethoclip.data"
DATASETS.register("VideoDataset", f"{_D}._datasets:VideoDataset", "MMAction2 list file of videos")
DATASETS.register("ClipDataset", f"{_D}._datasets:ClipDataset", "a 'prepare' folder, by split")
for name in ("DecordInit", "PyAVInit", "OpenCVInit"):
    TRANSFORMS.register(name, f"{_D}._decode:VideoInit", "open the video (PyAV, frame-exact)")
for name in ("DecordDecode", "PyAVDecode", "OpenCVDecode"):
    TRANSFORMS.register(name, f"{_D}._decode:VideoDecode", "decode the sampled frames (PyAV)")
for name, text in [
    ("SampleFrames", "choose frame indices: clip_len × frame_interval × num_clips"),
    ("Resize", "resize to a scale (keep_ratio) or a fixed size"),
    ("RandomResizedCrop", "random area/aspect crop"),
    ("MultiScaleCrop", "crop at one of several scales (TSN)"),
    ("RandomRescale", "short side random in a range"),
    ("RandomCrop", "random square crop"),
    ("CenterCrop", "centre crop"),
    ("ThreeCrop", "three crops along the long side (test time)"),
    ("TenCrop", "five crops and their flips (test time)"),
    ("Flip", "horizontal flip with a probability"),
    ("FormatShape", "frames to NCHW / NCTHW, clips and crops folded"),
    ("PackActionInputs", "the model's input and the target"),
]:
    TRANSFORMS.register(name, f"{_D}._transforms:{name}", text)
DATA_SAMPLERS.register("DefaultSampler", f"{_D}._samplers:DefaultSampler", "shuffle or not")

_E = "ethoclip.engine"
OPTIM_WRAPPERS.register("OptimWrapper", f"{_E}._optim:OptimWrapper", "optimizer + gradient clip")
OPTIM_WRAPPERS.register(
    "AmpOptimWrapper", f"{_E}._optim:AmpOptimWrapper", "the same in mixed precision"
)
for name, text in [
    ("MultiStepLR", "multiply by gamma at milestones (by epoch or iteration)"),
    ("StepLR", "multiply by gamma every step_size"),
    ("LinearLR", "linear warm-up from start_factor to end_factor"),
    ("CosineAnnealingLR", "cosine from the LR down to eta_min over T_max"),
    ("ExponentialLR", "multiply by gamma every epoch/iteration"),
    ("ConstantLR", "constant factor until a point"),
    ("PolyLR", "polynomial decay to eta_min"),
]:
    PARAM_SCHEDULERS.register(name, f"{_E}._schedulers:{name}", text)
METRICS.register("AccMetric", f"{_E}._metrics:AccMetric", "mAP, top-k, mean class accuracy")
for name, text in [
    ("CheckpointHook", "epoch_N, last and best_<metric> checkpoints"),
    ("LoggerHook", "log every `interval` iterations"),
    ("RuntimeInfoHook", "runtime info (built into the trainer)"),
    ("IterTimerHook", "iteration timing (built into the trainer)"),
    ("ParamSchedulerHook", "steps the LR schedulers (built into the trainer)"),
    ("DistSamplerSeedHook", "reseeds the sampler each epoch (built into the trainer)"),
    ("SyncBuffersHook", "syncs BN buffers across processes (built into the trainer)"),
    ("EmptyCacheHook", "empties the CUDA cache (built into the trainer)"),
]:
    HOOKS.register(name, f"{_E}._hooks:{name}", text)
LOOPS.register("EpochBasedTrainLoop", f"{_E}._loops:EpochBasedTrainLoop", "train for max_epochs")
LOOPS.register("ValLoop", f"{_E}._loops:ValLoop", "validate (every val_interval epochs)")
LOOPS.register("TestLoop", f"{_E}._loops:TestLoop", "test")

__all__ = [
    "DATASETS",
    "DATA_SAMPLERS",
    "HOOKS",
    "LOOPS",
    "METRICS",
    "MODELS",
    "OPTIMIZERS",
    "OPTIM_WRAPPERS",
    "PARAM_SCHEDULERS",
    "REGISTRIES",
    "TRANSFORMS",
    "Entry",
    "Registry",
    "building",
    "check_arguments",
    "config_error",
    "current_key",
]
