"""What prediction needs from a model, whatever it came from: an ethoclip checkpoint, an
MMAction2-style config with a checkpoint (the notes' ``demo.py CONFIG CHECKPOINT``), or a
pretrained torchvision name (``torchvision:r2plus1d_18``, Kinetics-400).

A window of video is ``frames_per_window`` frames sampled at ``fps`` by the same window →
frame rule the training clips were cut with (``window_frame_indices``); ``prepare`` turns
those frames into the model's input exactly as the test pipeline turns a clip's frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import Config
from ..data import Compose, VideoDecode, VideoInit, resize_frames
from ..dataset import read_label_map
from ..errors import CheckpointError, ConfigError
from ..models import BaseRecognizer, build_recognizer, load_weights

# torchvision's Kinetics-400 video classifiers: frames per clip they were trained with (at
# 15 fps, torchvision's reference recipe).
TORCHVISION_FRAMES = {
    "r3d_18": 16,
    "mc3_18": 16,
    "r2plus1d_18": 16,
    "s3d": 16,
    "mvit_v1_b": 16,
    "mvit_v2_s": 16,
    "swin3d_t": 32,
    "swin3d_s": 32,
    "swin3d_b": 32,
}


@dataclass
class ClipModel:
    """A model ready to score windows of video."""

    name: str
    classes: list[str]
    multi_label: bool
    thresholds: list[float]
    window_sec: float
    fps: Fraction | None  # None: the video's own rate
    frames_per_window: int | None  # None: window_sec × fps
    clip_size: tuple[int, int] | None  # (w, h) the frames are scaled to first, as the clips were
    prepare: Callable[[np.ndarray], torch.Tensor]  # window frames (M, H, W, 3) → model input
    score: Callable[[torch.Tensor], torch.Tensor]  # batch of inputs → probabilities (N, K)
    notes: list[str] = field(default_factory=list)
    # A dense model (StepHead): batch → clip probabilities (N, K) and per-step ones (N, T, K),
    # with the per-step thresholds validation chose, and which of the window's frames the
    # steps are (positions among the window's frames). None: clip scores only.
    score_steps: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None
    step_thresholds: list[float] | None = None
    step_positions: Callable[[int], np.ndarray] | None = None
    # Per class, what validation said (``engine.class_evidence``); None: nothing known (a
    # torchvision classifier, a config + checkpoint, a checkpoint that never validated).
    evidence: list[dict[str, Any]] | None = None
    # (w, h) of the picture read → the size to decode it at: the test pipeline's decode step's
    # own resize, done by the reader's scaler as the training loader does. None: as read.
    read_size: Callable[[int, int], tuple[int, int]] | None = None

    @property
    def learned(self) -> list[bool | None]:
        """Per class: True/False as validation showed it, None where nothing is known."""
        if self.evidence is None:
            return [None] * len(self.classes)
        return [bool(e["learned"]) for e in self.evidence]

    def rename(self, names: Sequence[str], source: str) -> None:
        if len(names) != len(self.classes):
            raise ConfigError(
                f"{source}: {len(names)} class names for a model of {len(self.classes)} classes; "
                "pass the label file the model was trained with"
            )
        self.classes = list(names)


class WindowPipeline:
    """A test pipeline applied to frames already decoded: sampling picks among the window's
    frames, decoding is a lookup, everything after runs as written."""

    def __init__(self, pipeline: Sequence[dict[str, Any]]) -> None:
        self.compose = Compose(pipeline)
        if not any(isinstance(t, VideoDecode) for t in self.compose.transforms):
            raise ConfigError("the test pipeline has no decode step (DecordDecode/PyAVDecode)")

    def _sampled(self, total_frames: int) -> tuple[dict[str, Any], int]:
        """The pipeline run up to its decode step over a window of ``total_frames`` frames:
        the results so far and the index of the decode step."""
        results: dict[str, Any] = {
            "total_frames": total_frames,
            "start_index": 0,
            "label": -1,
            "modality": "RGB",
        }
        for index, transform in enumerate(self.compose.transforms):
            if isinstance(transform, VideoDecode):
                return results, index
            if not isinstance(transform, VideoInit):
                results = transform(results)
        raise ConfigError("the test pipeline has no decode step (DecordDecode/PyAVDecode)")

    def read_size(self, width: int, height: int) -> tuple[int, int]:
        """The size to decode a ``width``×``height`` picture at: the decode step's fused
        resize, when a Resize follows it. The training loader decodes at that size with the
        reader's scaler (swscale, which filters as it shrinks); resizing full frames here
        instead (bilinear, no antialias) gave aliased frames with 25 % more frame difference
        and 50 % more foreground pixels than the model was trained on (fish_tank, 256 → 96 px)."""
        decode = next(t for t in self.compose.transforms if isinstance(t, VideoDecode))
        if decode.resize is not None:
            w, h = decode.resize.output_size(width, height)
            return int(w), int(h)
        return width, height

    def positions(self, total_frames: int) -> np.ndarray:
        """Which of a window's ``total_frames`` frames the model's input holds, in order (the
        test pipeline's sampling is deterministic)."""
        results, _ = self._sampled(total_frames)
        return np.asarray(results["frame_inds"], dtype=np.int64).reshape(-1)

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        results, decode = self._sampled(len(frames))
        for transform in self.compose.transforms[decode:]:
            if isinstance(transform, VideoInit):
                continue
            if isinstance(transform, VideoDecode):
                imgs = frames[np.asarray(results["frame_inds"], dtype=np.int64)]
                if transform.resize is not None:
                    width, height = transform.resize.output_size(imgs.shape[2], imgs.shape[1])
                    imgs = resize_frames(imgs, width, height)
                results["imgs"] = imgs
                results["img_shape"] = imgs.shape[1:3]
                continue
            results = transform(results)
        inputs: torch.Tensor = results["inputs"]
        return inputs


def _recognizer_scorer(
    model: BaseRecognizer, device: torch.device
) -> Callable[[torch.Tensor], torch.Tensor]:
    @torch.no_grad()
    def score(batch: torch.Tensor) -> torch.Tensor:
        return model.scores(batch.to(device)).float().cpu()

    return score


def _one_view(pipeline: Sequence[dict[str, Any]]) -> bool:
    """Whether a test pipeline gives one view per window (one clip, one crop)."""
    for t in pipeline:
        if t.get("type") == "SampleFrames" and int(t.get("num_clips", 1)) != 1:
            return False
        if t.get("type") in ("ThreeCrop", "TenCrop"):
            return False
    return True


def _step_scorer(
    model: BaseRecognizer, device: torch.device
) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    @torch.no_grad()
    def score(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        clip, steps = model.step_scores(batch.to(device))
        if steps is None:  # checked when the model was loaded: one view per window
            raise ConfigError("the test pipeline gives several views: no per-step scores")
        return clip.float().cpu(), steps.float().cpu()

    return score


def from_checkpoint(path: str, device: torch.device) -> ClipModel:
    from ..models._checkpoint import load_trained

    trained = load_trained(path, device=device)
    pre = trained.preprocessing
    fps = Fraction(pre["fps"]) if pre.get("fps") else None
    clip_sec = pre.get("clip_sec") or (
        pre["clip_frames"] / float(fps) if fps and pre.get("clip_frames") else None
    )
    if not clip_sec:
        raise CheckpointError(f"{path}: the checkpoint does not say how long its clips were")
    size = (int(pre["clip_size"][0]), int(pre["clip_size"][1])) if pre.get("clip_size") else None
    prepare = WindowPipeline(pre["test_pipeline"])
    frames = pre.get("clip_frames")
    steps = None
    notes = []
    if trained.model.dense and trained.step_thresholds and frames:
        steps = prepare.positions
        if not _one_view(pre["test_pipeline"]):
            steps = None
            notes.append(
                "the test pipeline gives several views per window (clips or crops): bouts come "
                "from the window scores, not the per-step ones"
            )
    return ClipModel(
        name=Path(path).name,
        classes=trained.classes,
        multi_label=trained.multi_label,
        thresholds=trained.thresholds if trained.multi_label else [0.0] * len(trained.classes),
        window_sec=float(clip_sec),
        fps=fps,
        frames_per_window=pre.get("clip_frames"),
        clip_size=size,
        prepare=prepare,
        score=_recognizer_scorer(trained.model, device),
        evidence=trained.class_evidence if trained.multi_label else None,
        read_size=prepare.read_size,
        notes=notes,
        score_steps=_step_scorer(trained.model, device) if steps is not None else None,
        step_thresholds=trained.step_thresholds if steps is not None else None,
        step_positions=steps,
    )


def from_config(
    config: str, checkpoint: str | None, label_file: str | None, device: torch.device
) -> ClipModel:
    """MMAction2's demo form: a config, its checkpoint and a label map."""
    if checkpoint is None:
        raise ConfigError(f"{config}: a config needs its weights too: pass --checkpoint FILE")
    cfg = Config.fromfile(config)
    names = read_label_map(label_file) if label_file else None
    model_cfg = cfg.to_dict().get("model")
    if not model_cfg:
        raise ConfigError(f"{config}: the config has no model")
    model_cfg["backbone"]["pretrained"] = None  # the checkpoint holds every weight
    head = model_cfg["cls_head"]
    multi = (
        str((head.get("loss_cls") or {}).get("type", head.get("loss_cls"))) == "BCELossWithLogits"
    )
    model = build_recognizer(
        model_cfg, num_classes=len(names) if names else None, multi_label=multi
    )
    notes = load_weights(model, checkpoint)
    model.to(device).eval()
    loader = cfg.get("test_dataloader") or cfg.get("val_dataloader")
    if not loader:
        raise ConfigError(f"{config}: no test_dataloader or val_dataloader: no test pipeline")
    pipeline = loader["dataset"]["pipeline"]
    sample: dict[str, Any] = next((t for t in pipeline if t.get("type") == "SampleFrames"), {})
    span = (int(sample.get("clip_len", 1)) - 1) * int(sample.get("frame_interval", 1)) + 1
    classes = list(names) if names else [f"class_{i}" for i in range(model.num_classes)]
    return ClipModel(
        name=Path(config).name,
        classes=classes,
        multi_label=model.multi_label,
        thresholds=[0.5 if model.multi_label else 0.0] * len(classes),
        window_sec=0.0,  # set from the video's rate: the span SampleFrames reaches
        fps=None,
        frames_per_window=max(
            span, int(sample.get("num_clips", 1)) * int(sample.get("clip_len", 1))
        ),
        clip_size=None,
        prepare=WindowPipeline(pipeline),
        score=_recognizer_scorer(model, device),
        notes=notes,
    )


def from_torchvision(spec: str, device: torch.device) -> ClipModel:
    """``torchvision:NAME``: a Kinetics-400 classifier with weights from torch.hub's cache."""
    from torchvision import models

    name = spec.split(":", 1)[1]
    if name not in TORCHVISION_FRAMES:
        raise ConfigError(
            f"{spec}: not a torchvision video classifier; use one of "
            + ", ".join(f"torchvision:{n}" for n in TORCHVISION_FRAMES)
        )
    from ..models._weights import _from_url

    weights = models.get_model_weights(name).DEFAULT
    model = models.get_model(name, weights=None)
    model.load_state_dict(_from_url(str(weights.url)))
    model.to(device).eval()
    transform = weights.transforms()
    frames = TORCHVISION_FRAMES[name]

    def prepare(window: np.ndarray) -> torch.Tensor:
        clip = torch.from_numpy(np.ascontiguousarray(window)).permute(0, 3, 1, 2)  # (T, C, H, W)
        return transform(clip).unsqueeze(0)  # (1 view, C, T, h, w), normalised float

    @torch.no_grad()
    def score(batch: torch.Tensor) -> torch.Tensor:
        logits = model(batch.to(device).flatten(0, 1))
        return torch.softmax(logits, dim=-1).float().cpu()

    return ClipModel(
        name=spec,
        classes=list(weights.meta["categories"]),
        multi_label=False,
        thresholds=[0.0] * len(weights.meta["categories"]),
        window_sec=frames / 15.0,
        fps=Fraction(15),
        frames_per_window=frames,
        clip_size=None,
        prepare=prepare,
        score=score,
    )


def load_model(
    spec: str,
    *,
    checkpoint: str | None = None,
    label_file: str | None = None,
    device: str | None = None,
) -> ClipModel:
    """MODEL as the command line takes it: a checkpoint, a config (+ --checkpoint), or
    ``torchvision:NAME``."""
    from ..models._memory import keep_freed_memory

    keep_freed_memory()  # each window's forward reuses the last one's pages
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if spec.startswith("torchvision:"):
        model = from_torchvision(spec, target)
    elif Path(spec).suffix.lower() in (".py", ".yaml", ".yml", ".json"):
        model = from_config(spec, checkpoint, label_file, target)
        label_file = None  # already used for the number of classes
    else:
        model = from_checkpoint(spec, target)
        if label_file:  # the checkpoint knows its names: the file must name the same classes
            from ..preflight._classes import class_order, describe_order

            names = read_label_map(label_file)
            order = class_order(
                model.classes, names, model_source=spec, data_source=f"--label-file {label_file}"
            )
            if order is not None:
                model.notes.append(
                    f"--label-file {label_file}: {describe_order(order, model.classes, names)}; "
                    "the checkpoint's own order is kept"
                )
            label_file = None
    if label_file:
        model.rename(read_label_map(label_file), label_file)
    return model
