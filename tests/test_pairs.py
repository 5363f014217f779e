"""Frame pairs for fast movement: ``PairFrames`` puts each sampled frame's next video frame
beside it, and ``HybridNet(pairs=True)`` measures the motion within the pairs, which the
sampled frames' spacing aliases away."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.cli import main
from ethoclip.config import Config
from ethoclip.data import Compose
from ethoclip.data._pairs import PairFrames
from ethoclip.demo import read_frame_code
from ethoclip.errors import ConfigError
from ethoclip.models.backbones.hybrid import HybridNet, pair_series, series_names

from .learning_fixtures import assert_takes_a_training_step


def test_pairs_interleave_each_sampled_frame_with_the_next_and_stop_at_the_last() -> None:
    results = {"frame_inds": np.array([0, 4, 8, 11]), "total_frames": 12, "clip_len": 4}
    out = PairFrames()(results)
    # 11 is the last frame: its neighbour is itself (a pair with no motion, not a wrap to 0).
    assert out["frame_inds"].tolist() == [0, 1, 4, 5, 8, 9, 11, 11]
    assert out["clip_len"] == 8
    two = PairFrames(gap=2)({"frame_inds": np.array([3]), "total_frames": 9, "clip_len": 1,
                             "start_index": 1})  # fmt: skip
    assert two["frame_inds"].tolist() == [3, 5]


@pytest.mark.parametrize("gap", [0, -1, 1.5, True])
def test_a_gap_that_is_not_a_whole_number_of_frames_is_refused(gap: object) -> None:
    with pytest.raises(ConfigError, match="gap"):
        PairFrames(gap=gap)  # type: ignore[arg-type]


def test_pairs_before_a_sampler_are_refused_with_what_to_do() -> None:
    with pytest.raises(ConfigError, match="after SampleFrames"):
        PairFrames()({"total_frames": 10, "clip_len": 2})


def test_decoded_pairs_are_the_sampled_frames_and_their_next_ones(demo_dataset: Path) -> None:
    """Through the real decoder: the frames that come out carry the codes of (i, i + 1) for
    every index i SampleFrames chose, and FormatShape keeps all 2 × clip_len in one clip."""
    clip = next(line.split()[0] for line in (demo_dataset / "val.txt").read_text().splitlines())
    pipeline = Compose(
        [
            {"type": "DecordInit"},
            {"type": "SampleFrames", "clip_len": 6, "frame_interval": 5, "test_mode": True},
            {"type": "PairFrames"},
            {"type": "DecordDecode"},
            {"type": "FormatShape", "input_format": "NCTHW"},
            {"type": "PackActionInputs"},
        ]
    )
    out = pipeline({"filename": str(demo_dataset / clip), "label": 0, "start_index": 0,
                    "modality": "RGB"})  # fmt: skip
    inputs = out["inputs"]  # (1, C, 12, H, W)
    assert inputs.shape[2] == 12
    codes = [read_frame_code(np.ascontiguousarray(f.permute(1, 2, 0).numpy()))
             for f in inputs[0].permute(1, 0, 2, 3)]  # fmt: skip
    inds = out["meta"]["frame_inds"]
    assert inds[1::2] == [i + 1 for i in inds[0::2]]
    assert codes[1::2] == [c + 1 for c in codes[0::2]]


def _oscillating_clip(period: int, samples: int, interval: int) -> torch.Tensor:
    """A 6-pixel dot on a plain ground that moves ±2 px with a period of ``period`` video
    frames, sampled every ``interval`` frames and paired with the next frame: (1, 3, 2S, H, W),
    normalised units."""
    frames = []
    for k in range(samples):
        for t in (k * interval, k * interval + 1):
            frame = torch.zeros(3, 48, 64)
            dx = round(2 * np.sin(2 * np.pi * t / period))
            frame[:, 20:26, 28 + dx : 34 + dx] = 2.0
            frames.append(frame)
    return torch.stack(frames, dim=1)[None]


def test_movement_at_the_sampling_rate_is_seen_only_within_the_pairs() -> None:
    """A dot oscillating once every 4 frames, sampled every 4: every sampled frame is the same
    picture, so the statistics of the sampled frames say "still"; the pairs (frame 4k and
    4k + 1) differ, and ``flick`` says how much."""
    clip = _oscillating_clip(period=4, samples=8, interval=4)
    grey = clip.mean(dim=1)
    fg = (grey - grey.median(dim=1, keepdim=True).values).abs() > 0.31
    sampled = grey[:, 0::2]
    assert torch.equal(sampled, sampled[:, :1].expand_as(sampled))  # aliased to stillness
    series = pair_series(grey, fg.float(), None, gate_motion=True)
    flick = series[0, PAIR_INDEX["flick"]]
    assert bool((flick > 0).all())
    # No motion between sampled frames: all of it is within pairs, fshare = flick / (flick + ε)
    # with pair_series' ε = 1e-3 (flick here: 12 changed pixels × 2.0 / 24² = 0.0417).
    assert torch.allclose(flick, torch.full_like(flick, 12 * 2.0 / 24**2))
    assert torch.allclose(series[0, PAIR_INDEX["fshare"]], flick / (flick + 1e-3))
    still = pair_series(grey[:, 0::2].repeat_interleave(2, 1), fg.float()[:, 0::2]
                        .repeat_interleave(2, 1), None, gate_motion=True)  # fmt: skip
    assert bool((still[0, PAIR_INDEX["flick"]] == 0).all())


PAIR_INDEX = {name: k for k, name in enumerate(series_names(False, True)[-4:])}


def test_the_paired_backbone_gives_one_step_per_input_frame_and_refuses_odd_clips() -> None:
    net = HybridNet(widths=(4, 8, 8, 8), steps=True, gate_motion=True, pairs=True)
    clip = _oscillating_clip(period=4, samples=6, interval=4).repeat(2, 1, 1, 1, 1)
    pooled, steps = net(clip)
    assert pooled.shape[:2] == (2, net.out_channels)
    assert steps.shape[:3] == (2, net.step_channels, 12)
    assert torch.equal(steps[:, :, 0::2], steps[:, :, 1::2])  # a pair shares its step
    plain = HybridNet(widths=(4, 8, 8, 8), steps=True, gate_motion=True)
    assert net.out_channels - plain.out_channels == 4 * 4  # four series, four pools each
    with pytest.raises(ConfigError, match="pairs"):
        net(clip[:, :, :11])
    with pytest.raises(ConfigError, match="stats=True"):
        HybridNet(stats=False, pairs=True)


def test_config_new_hybrid_zoom_pairs_pairs_every_pipeline_and_trains(
    demo_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pairs.py"
    assert main(["config", "new", "--data", str(demo_dataset), "--model", "hybrid_zoom_pairs",
                 "--out", str(out)]) == 0  # fmt: skip
    cfg = Config.fromfile(out)
    for key in ("train_pipeline", "val_pipeline", "test_pipeline"):
        types = [t.type for t in cfg[key]]
        assert types[types.index("SampleFrames") + 1] == "PairFrames"
    assert cfg.model.backbone.pairs is True and cfg.model.backbone.zoom == 0.9
    assert_takes_a_training_step(cfg, frames=16, size=(192, 256))
