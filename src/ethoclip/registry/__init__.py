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
    ("ResNet", f"{_M}.backbones.resnet:ResNet", "MMAction2's 2D ResNet-18…152, per frame"),
    ("ResNetTSM", f"{_M}.backbones.resnet_tsm:ResNetTSM", "TSM: ResNet with temporal shift"),
    ("ResNetTIN", f"{_M}.backbones.resnet_tin:ResNetTIN", "TIN: ResNet, temporal interlace"),
    ("TANet", f"{_M}.backbones.tanet:TANet", "TANet: ResNet with temporal adaptive modules"),
    ("C2D", f"{_M}.backbones.c2d:C2D", "C2D: 2D ResNet per frame of a clip, temporal pools"),
    ("MobileNetV2", f"{_M}.backbones.mobilenet_v2:MobileNetV2", "MMAction2's MobileNetV2"),
    (
        "MobileNetV2TSM",
        f"{_M}.backbones.mobilenet_v2_tsm:MobileNetV2TSM",
        "TSM on MobileNetV2",
    ),
    (
        "mmpretrain.MobileOne",
        f"{_M}.backbones.mobileone:MobileOne",
        "mmpretrain's MobileOne s0…s4 (its names), per frame (TSN)",
    ),
    (
        "MobileOneTSM",
        f"{_M}.backbones.mobileone_tsm:MobileOneTSM",
        "TSM on mmpretrain's MobileOne s0…s4 (re-parameterisable)",
    ),
    ("TSMHead", f"{_M}.heads.tsm_head:TSMHead", "per-frame linear, mean over segments (TSM)"),
    ("TRNHead", f"{_M}.heads.trn_head:TRNHead", "temporal relations over segments (TRN)"),
    ("TPNHead", f"{_M}.heads.tpn_head:TPNHead", "pool the TPN neck's output, linear"),
    ("TPN", f"{_M}.necks.tpn:TPN", "temporal pyramid neck with auxiliary head"),
    (
        "TVResNet2Plus1d18",
        f"{_M}._backbones:TVResNet2Plus1d18",
        "torchvision R(2+1)D-18 (Kinetics weights)",
    ),
    ("TVResNet3d18", f"{_M}._backbones:TVResNet3d18", "torchvision R3D-18 (Kinetics weights)"),
    ("ResNet3d", f"{_M}.backbones.resnet3d:ResNet3d", "MMAction2's ResNet3d (I3D), inflates 2D"),
    ("ResNet3dLayer", f"{_M}.backbones.resnet3d:ResNet3dLayer", "one ResNet3d stage"),
    (
        "ResNet3dSlowOnly",
        f"{_M}.backbones.resnet3d_slowonly:ResNet3dSlowOnly",
        "MMAction2's SlowOnly",
    ),
    (
        "ResNet3dSlowFast",
        f"{_M}.backbones.resnet3d_slowfast:ResNet3dSlowFast",
        "MMAction2's SlowFast (two pathways, laterals)",
    ),
    ("ResNet3dCSN", f"{_M}.backbones.resnet3d_csn:ResNet3dCSN", "MMAction2's ir/ip-CSN"),
    (
        "ResNet2Plus1d",
        f"{_M}.backbones.resnet2plus1d:ResNet2Plus1d",
        "MMAction2's R(2+1)D (Conv2plus1d)",
    ),
    ("C3D", f"{_M}.backbones.c3d:C3D", "MMAction2's C3D"),
    ("SlowFastHead", f"{_M}.heads.slowfast:SlowFastHead", "pool both pathways, concat, linear"),
    ("SwinTransformer3D", f"{_M}.backbones.swin:SwinTransformer3D", "MMAction2's Video Swin"),
    ("TimeSformer", f"{_M}.backbones.timesformer:TimeSformer", "MMAction2's TimeSformer"),
    ("VisionTransformer", f"{_M}.backbones.vit_mae:VisionTransformer", "MMAction2's VideoMAE ViT"),
    ("MViT", f"{_M}.backbones.mvit:MViT", "MMAction2's MViTv2 (pooling attention)"),
    ("MViTHead", f"{_M}.heads.mvit:MViTHead", "class token (MViT), dropout, linear"),
    ("TVSwinTransformer3D", f"{_M}._backbones:TVSwinTransformer3D", "torchvision Video Swin T/S/B"),
    ("HFTimeSformer", f"{_M}._transformers:HFTimeSformer", "transformers' TimeSformer (hf://)"),
    ("HFVideoMAE", f"{_M}._transformers:HFVideoMAE", "transformers' VideoMAE ViT (hf://)"),
    ("TinyVideoNet", f"{_M}._backbones:TinyVideoNet", "a small 3D CNN for CPUs, tests, the demo"),
    (
        "MotionNet",
        f"{_M}.backbones.motionnet:MotionNet",
        "frames + motion + foreground, (2+1)D, for CPUs without weights (the default)",
    ),
    (
        "HybridNet",
        f"{_M}.backbones.hybrid:HybridNet",
        "TinyVideoNet beside the clip's motion/foreground statistics, for CPUs",
    ),
    ("TSNHead", f"{_M}._heads:TSNHead", "spatial pool, segment consensus, dropout, linear"),
    ("TimeSformerHead", f"{_M}._heads:TimeSformerHead", "dropout + linear on the class token"),
    ("I3DHead", f"{_M}._heads:I3DHead", "spatio-temporal pool, dropout, linear"),
    (
        "StepHead",
        f"{_M}.heads.step:StepHead",
        "I3DHead's clip logits + per-step logits (temporal convs), for HybridNet(steps=True)",
    ),
    ("LinearHead", f"{_M}._heads:LinearHead", "pool whatever comes, dropout, linear"),
    ("AvgConsensus", f"{_M}._heads:AvgConsensus", "mean over segments (TSN)"),
    ("BCELossWithLogits", f"{_M}._losses:BCELossWithLogits", "multi-label loss (sigmoid + BCE)"),
    ("MixupBlending", f"{_M}._blending:MixupBlending", "mixup across the batch (blending=…)"),
    ("CutmixBlending", f"{_M}._blending:CutmixBlending", "CutMix across the batch (blending=…)"),
    (
        "RandomBatchAugment",
        f"{_M}._blending:RandomBatchAugment",
        "one of several blendings per batch, by probability",
    ),
    ("CrossEntropyLoss", f"{_M}._losses:CrossEntropyLoss", "single-label loss (softmax + CE)"),
    (
        "ActionDataPreprocessor",
        f"{_M}._preprocessor:ActionDataPreprocessor",
        "stack uint8 clips, move to the device, normalise there",
    ),
]:
    MODELS.register(name, target, text)
for name, target, text in [
    (
        "UniFormer",
        f"{_M}.backbones.uniformer:UniFormer",
        "UniFormer v1: conv then attention stages",
    ),
    (
        "UniFormerV2",
        f"{_M}.backbones.uniformerv2:UniFormerV2",
        "CLIP ViT + local MHRA + global blocks",
    ),
    ("X3D", f"{_M}.backbones.x3d:X3D", "expanded 3D ResNet (gamma_w/b/d, SE, Swish)"),
    ("UniFormerHead", f"{_M}.heads.uniformer_head:UniFormerHead", "dropout + linear (UniFormerV2)"),
    ("X3DHead", f"{_M}.heads.x3d_head:X3DHead", "pool, fc1 2048, ReLU, dropout, fc2 (X3D)"),
]:
    MODELS.register(name, target, text)

_D = "ethoclip.data"
DATASETS.register("VideoDataset", f"{_D}._datasets:VideoDataset", "MMAction2 list file of videos")
DATASETS.register("ClipDataset", f"{_D}._datasets:ClipDataset", "a 'prepare' folder, by split")
DATASETS.register("RawframeDataset", f"{_D}._rawframes:RawframeDataset", "list of frame folders")
DATASETS.register("ConcatDataset", f"{_D}._concat:ConcatDataset", "several datasets as one")
DATASETS.register("RepeatAugDataset", f"{_D}._repeat:RepeatAugDataset", "N augmentations a video")
for name in ("DecordInit", "PyAVInit", "OpenCVInit"):
    TRANSFORMS.register(name, f"{_D}._decode:VideoInit", "open the video (PyAV, frame-exact)")
for name in ("DecordDecode", "PyAVDecode", "OpenCVDecode"):
    TRANSFORMS.register(name, f"{_D}._decode:VideoDecode", "decode the sampled frames (PyAV)")
for name, text in [
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
for name, text in [
    ("SampleFrames", "choose frame indices: clip_len × frame_interval × num_clips"),
    ("UniformSample", "one frame from each of clip_len equal segments (SSv2)"),
    ("DenseSampleFrames", "clips spread inside a window of sample_range frames"),
]:
    TRANSFORMS.register(name, f"{_D}._sampling:{name}", text)
TRANSFORMS.register(
    "PairFrames", f"{_D}._pairs:PairFrames", "each sampled frame and the next (fast motion)"
)
TRANSFORMS.register("RawFrameDecode", f"{_D}._rawframes:RawFrameDecode", "read frame images")
TRANSFORMS.register("ColorJitter", f"{_D}._color:ColorJitter", "brightness/contrast/sat./hue")
TRANSFORMS.register("RandomErasing", f"{_D}._erasing:RandomErasing", "erase a random rectangle")
TRANSFORMS.register(
    "PytorchVideoWrapper", f"{_D}._randaugment:PytorchVideoWrapper", "pytorchvideo's RandAugment"
)
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
METRICS.register(
    "AccMetric", "ethoclip.evaluation._metrics:AccMetric", "mAP, top-k, mean class accuracy"
)
for name, text in [
    ("CheckpointHook", "epoch_N, last and best_<metric> checkpoints"),
    ("LoggerHook", "log every `interval` iterations"),
    ("RuntimeInfoHook", "runtime info (built into the trainer)"),
    ("IterTimerHook", "iteration timing (built into the trainer)"),
    ("ParamSchedulerHook", "steps the LR schedulers (built into the trainer)"),
    ("DistSamplerSeedHook", "reseeds the sampler each epoch (built into the trainer)"),
    ("SyncBuffersHook", "syncs BN buffers across processes (built into the trainer)"),
    ("EmptyCacheHook", "empties the CUDA cache (built into the trainer)"),
    ("EMAHook", "validates and saves a running average of the weights (MMEngine's rules)"),
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
