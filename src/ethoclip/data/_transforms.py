"""MMAction2's transforms with its names, arguments and semantics, on numpy (and torch for
resizing). Each takes the ``results`` dict and returns it, as MMAction2's do.

Frames travel as one uint8 array ``results['imgs']`` of shape (M, H, W, 3), RGB; they stay uint8
until the data preprocessor normalises them on the device.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..registry import config_error

Results = dict[str, Any]


def _imgs(results: Results) -> np.ndarray:
    imgs = results["imgs"]
    return imgs if isinstance(imgs, np.ndarray) else np.stack(imgs)


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    raise config_error(name, f"must be a number or (width, height), not {value!r}")


def _no_lazy(lazy: bool) -> None:
    if lazy:
        raise config_error("lazy", "lazy transforms are not supported: frames are cropped at once")


def rescale_size(width: int, height: int, scale: tuple[float, float]) -> tuple[int, int]:
    """mmcv's ``rescale_size`` for a (long, short) bound: the largest size that fits both,
    aspect kept, rounded half up."""
    long_edge, short_edge = max(scale), min(scale)
    factor = min(long_edge / max(width, height), short_edge / min(width, height))
    return int(width * factor + 0.5), int(height * factor + 0.5)


def resize_frames(imgs: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of (M, H, W, 3) uint8 frames (as cv2's INTER_LINEAR, no antialias).

    torch's uint8 kernel works on the channels-last memory as it is, in fixed point like cv2:
    ~10x faster than a float round trip, within one grey level of it.
    """
    if imgs.shape[1:3] == (height, width):
        return imgs
    tensor = torch.from_numpy(imgs).permute(0, 3, 1, 2)  # a view: N, C, H, W channels-last
    out = torch.nn.functional.interpolate(
        tensor, size=(height, width), mode="bilinear", align_corners=False, antialias=False
    )
    return out.permute(0, 2, 3, 1).contiguous().numpy()


class Resize:
    """Resize to ``scale``: with ``keep_ratio``, (-1, 256) means short side 256 and (w, h)
    bounds both sides; without it, (w, h) is the exact size. A float scales by a factor."""

    def __init__(
        self,
        scale: float | tuple[int, int],
        keep_ratio: bool = True,
        interpolation: str = "bilinear",
        lazy: bool = False,
    ) -> None:
        _no_lazy(lazy)
        if interpolation != "bilinear":
            raise config_error(
                "interpolation", f"only 'bilinear' is supported, not {interpolation!r}"
            )
        if isinstance(scale, float | int) and not isinstance(scale, bool):
            if scale <= 0:
                raise config_error("scale", f"must be positive (got {scale})")
            self.factor: float | None = float(scale)
            self.scale: tuple[float, float] = (0.0, 0.0)
        elif isinstance(scale, Sequence) and len(scale) == 2:
            self.factor = None
            long_edge, short_edge = max(scale), min(scale)
            if short_edge == -1:
                self.scale = (np.inf, float(long_edge))  # only the short side is bounded
            elif short_edge <= 0:
                raise config_error("scale", f"must be positive or -1 (got {tuple(scale)})")
            else:
                self.scale = (float(scale[0]), float(scale[1]))
        else:
            raise config_error("scale", f"must be a number or (w, h), not {scale!r}")
        self.keep_ratio = keep_ratio
        if not keep_ratio and (self.factor is not None or np.inf in self.scale):
            raise config_error("scale", "keep_ratio=False needs an exact (width, height)")

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        if self.factor is not None:
            return int(width * self.factor + 0.5), int(height * self.factor + 0.5)
        if self.keep_ratio:
            return rescale_size(width, height, self.scale)
        return int(self.scale[0]), int(self.scale[1])

    def __call__(self, results: Results) -> Results:
        imgs = _imgs(results)
        height, width = imgs.shape[1:3]
        new_w, new_h = self.output_size(width, height)
        results["imgs"] = resize_frames(imgs, new_w, new_h)
        factor = np.array([new_w / width, new_h / height], np.float32)
        results["scale_factor"] = results.get("scale_factor", np.ones(2, np.float32)) * factor
        results["img_shape"] = (new_h, new_w)
        results["keep_ratio"] = self.keep_ratio
        return results


def _crop(results: Results, left: int, top: int, width: int, height: int) -> Results:
    imgs = _imgs(results)
    results["imgs"] = imgs[:, top : top + height, left : left + width]
    results["crop_bbox"] = np.array([left, top, left + width, top + height])
    results["img_shape"] = (height, width)
    return results


class RandomResizedCrop:
    """A crop of random area (``area_range`` of the frame) and aspect (``aspect_ratio_range``),
    the same for every frame of the sample; after 10 failed draws, the centre square."""

    def __init__(
        self,
        area_range: tuple[float, float] = (0.08, 1.0),
        aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3),
        lazy: bool = False,
    ) -> None:
        _no_lazy(lazy)
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise config_error("area_range", f"must satisfy 0 < low ≤ high ≤ 1 (got {area_range})")
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise config_error(
                "aspect_ratio_range", f"must satisfy 0 < low ≤ high (got {aspect_ratio_range})"
            )
        self.area_range = area_range
        self.aspect_ratio_range = aspect_ratio_range

    def __call__(self, results: Results) -> Results:
        height, width = _imgs(results).shape[1:3]
        area = height * width
        low, high = np.log(self.aspect_ratio_range)
        ratios = np.exp(np.random.uniform(float(low), float(high), size=10))
        areas = np.random.uniform(*self.area_range, size=10) * area
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
        for crop_w, crop_h in zip(widths, heights, strict=True):
            if crop_h <= height and crop_w <= width:
                left = random.randint(0, width - crop_w)
                top = random.randint(0, height - crop_h)
                return _crop(results, left, top, int(crop_w), int(crop_h))
        side = min(height, width)
        return _crop(results, (width - side) // 2, (height - side) // 2, side, side)


class MultiScaleCrop:
    """TSN's crop: a size from ``scales`` × the short side (width and height within
    ``max_wh_scale_gap`` scale steps), at one of 5 (or 13) fixed places or a random one."""

    def __init__(
        self,
        input_size: int | tuple[int, int],
        scales: tuple[float, ...] = (1,),
        max_wh_scale_gap: int = 1,
        random_crop: bool = False,
        num_fixed_crops: int = 5,
        lazy: bool = False,
    ) -> None:
        _no_lazy(lazy)
        if num_fixed_crops not in (5, 13):
            raise config_error("num_fixed_crops", f"must be 5 or 13 (got {num_fixed_crops})")
        self.input_size = _pair(input_size, "input_size")
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops

    def __call__(self, results: Results) -> Results:
        height, width = _imgs(results).shape[1:3]
        base = min(height, width)
        sizes = [int(base * s) for s in self.scales]
        candidates = [
            [w, h]
            for i, h in enumerate(sizes)
            for j, w in enumerate(sizes)
            if abs(i - j) <= self.max_wh_scale_gap
        ]
        crop = random.choice(candidates)
        for i in range(2):
            if abs(crop[i] - self.input_size[i]) < 3:
                crop[i] = self.input_size[i]
        crop_w, crop_h = crop
        if self.random_crop:
            left, top = random.randint(0, width - crop_w), random.randint(0, height - crop_h)
        else:
            w_step, h_step = (width - crop_w) // 4, (height - crop_h) // 4
            offsets = [
                (0, 0),
                (4 * w_step, 0),
                (0, 4 * h_step),
                (4 * w_step, 4 * h_step),
                (2 * w_step, 2 * h_step),
            ]
            if self.num_fixed_crops == 13:
                offsets += [
                    (0, 2 * h_step),
                    (4 * w_step, 2 * h_step),
                    (2 * w_step, 4 * h_step),
                    (2 * w_step, 0),
                    (w_step, h_step),
                    (3 * w_step, h_step),
                    (w_step, 3 * h_step),
                    (3 * w_step, 3 * h_step),
                ]
            left, top = random.choice(offsets)
        return _crop(results, left, top, crop_w, crop_h)


class RandomRescale:
    """Resize so the short side is a random whole number in ``scale_range`` (inclusive)."""

    def __init__(self, scale_range: tuple[int, int], interpolation: str = "bilinear") -> None:
        if len(scale_range) != 2 or not 0 < scale_range[0] <= scale_range[1]:
            raise config_error(
                "scale_range", f"must be (low, high) with 0 < low ≤ high (got {scale_range})"
            )
        self.scale_range = scale_range
        self.interpolation = interpolation
        Resize((-1, scale_range[0]), interpolation=interpolation)  # refuses it now, not later

    def __call__(self, results: Results) -> Results:
        short = int(np.random.randint(self.scale_range[0], self.scale_range[1] + 1))
        return Resize((-1, short), keep_ratio=True, interpolation=self.interpolation)(results)


class RandomCrop:
    """A random ``size``×``size`` crop, the same for every frame of the sample."""

    def __init__(self, size: int, lazy: bool = False) -> None:
        _no_lazy(lazy)
        if not isinstance(size, int) or size < 1:
            raise config_error("size", f"must be a whole number ≥ 1 (got {size!r})")
        self.size = size

    def __call__(self, results: Results) -> Results:
        height, width = _imgs(results).shape[1:3]
        if self.size > height or self.size > width:
            raise ValueError(
                f"RandomCrop size {self.size} is larger than the frames ({width}x{height})"
            )
        top = int(np.random.randint(0, height - self.size)) if height > self.size else 0
        left = int(np.random.randint(0, width - self.size)) if width > self.size else 0
        return _crop(results, left, top, self.size, self.size)


class CenterCrop:
    """The centre ``crop_size`` crop (a number for a square, or (width, height))."""

    def __init__(self, crop_size: int | tuple[int, int], lazy: bool = False) -> None:
        _no_lazy(lazy)
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: Results) -> Results:
        height, width = _imgs(results).shape[1:3]
        crop_w, crop_h = self.crop_size
        return _crop(results, (width - crop_w) // 2, (height - crop_h) // 2, crop_w, crop_h)


class ThreeCrop:
    """Three crops along the long side (start, end, middle): a sample becomes 3 views."""

    def __init__(self, crop_size: int | tuple[int, int]) -> None:
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: Results) -> Results:
        imgs = _imgs(results)
        height, width = imgs.shape[1:3]
        crop_w, crop_h = self.crop_size
        if crop_h != height and crop_w != width:
            raise ValueError(
                f"ThreeCrop {crop_w}x{crop_h} needs frames of that height or width "
                f"({width}x{height}): resize the short side to the crop size first"
            )
        if crop_h == height:
            step = (width - crop_w) // 2
            offsets = [(0, 0), (2 * step, 0), (step, 0)]
        else:
            step = (height - crop_h) // 2
            offsets = [(0, 0), (0, 2 * step), (0, step)]
        results["imgs"] = np.concatenate(
            [imgs[:, y : y + crop_h, x : x + crop_w] for x, y in offsets]
        )
        results["crop_bbox"] = np.array([[x, y, x + crop_w, y + crop_h] for x, y in offsets])
        results["img_shape"] = (crop_h, crop_w)
        return results


class TenCrop:
    """Five crops (corners and centre) and their mirror images: a sample becomes 10 views.
    (Mirrored flow has its x component turned round, as ``Flip`` does; MMAction2's does not.)"""

    def __init__(self, crop_size: int | tuple[int, int]) -> None:
        self.crop_size = _pair(crop_size, "crop_size")

    def __call__(self, results: Results) -> Results:
        imgs = _imgs(results)
        height, width = imgs.shape[1:3]
        crop_w, crop_h = self.crop_size
        w_step, h_step = (width - crop_w) // 4, (height - crop_h) // 4
        offsets = [
            (0, 0),
            (4 * w_step, 0),
            (0, 4 * h_step),
            (4 * w_step, 4 * h_step),
            (2 * w_step, 2 * h_step),
        ]
        views = []
        for x, y in offsets:
            crop = imgs[:, y : y + crop_h, x : x + crop_w]
            mirrored = crop[:, :, ::-1]
            if results.get("modality") == "Flow":  # as Flip: the horizontal motion turns round
                mirrored = mirrored.copy()
                mirrored[..., 0] = 255 - mirrored[..., 0]
            views += [crop, mirrored]
        results["imgs"] = np.ascontiguousarray(np.concatenate(views))
        results["img_shape"] = (crop_h, crop_w)
        return results


class Flip:
    """Mirror every frame of the sample with probability ``flip_ratio``. Optical flow (frames of
    x and y components, 128 = no motion) flips horizontally only, and its x component changes
    sign (255 − x) as the motion it measures turns round."""

    def __init__(
        self,
        flip_ratio: float = 0.5,
        direction: str = "horizontal",
        flip_label_map: dict[int, int] | None = None,
        lazy: bool = False,
    ) -> None:
        _no_lazy(lazy)
        if direction not in ("horizontal", "vertical"):
            raise config_error(
                "direction", f"must be 'horizontal' or 'vertical', not {direction!r}"
            )
        if not 0 <= flip_ratio <= 1:
            raise config_error("flip_ratio", f"must be in [0, 1] (got {flip_ratio})")
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map

    def __call__(self, results: Results) -> Results:
        flip = bool(np.random.rand() < self.flip_ratio)
        results["flip"] = flip
        results["flip_direction"] = self.direction
        flow = results.get("modality") == "Flow"
        if flow and self.direction != "horizontal":
            raise config_error(
                "direction", "optical flow flips horizontally only; use direction='horizontal'"
            )
        if flip:
            imgs = _imgs(results)
            axis = 2 if self.direction == "horizontal" else 1
            flipped = np.ascontiguousarray(np.flip(imgs, axis=axis))
            if flow:
                # MMAction2 1.2.0 inverts every other whole frame here (a rule written for
                # frames listed x, y, x, y …, which its RawFrameDecode no longer makes): the
                # even frames' vertical motion turns round too, the odd frames' horizontal
                # motion does not. ethoclip turns the horizontal component of every frame.
                flipped[..., 0] = 255 - flipped[..., 0]
            results["imgs"] = flipped
            if self.flip_label_map is not None and isinstance(results.get("label"), int):
                results["label"] = self.flip_label_map.get(results["label"], results["label"])
        return results


class FormatShape:
    """(M, H, W, C) frames to the model's layout: ``NCHW`` (M, C, H, W) for 2D models,
    ``NCTHW`` (views, C, T, H, W) for 3D ones, views = crops × clips (MMAction2's order)."""

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in ("NCHW", "NCTHW"):
            raise config_error("input_format", f"must be 'NCHW' or 'NCTHW', not {input_format!r}")
        self.input_format = input_format
        self.collapse = collapse

    def __call__(self, results: Results) -> Results:
        imgs = _imgs(results)
        if self.input_format == "NCTHW":
            num_clips, clip_len = int(results["num_clips"]), int(results["clip_len"])
            # (crops, clips, T, H, W, C) → (crops, clips, C, T, H, W) → (views, C, T, H, W)
            imgs = imgs.reshape((-1, num_clips, clip_len, *imgs.shape[1:]))
            imgs = np.transpose(imgs, (0, 1, 5, 2, 3, 4))
            imgs = imgs.reshape((-1, *imgs.shape[2:]))
        else:
            imgs = np.transpose(imgs, (0, 3, 1, 2))
            if results.get("modality") == "Flow":
                # A 2D model sees each clip's flow stacked: (clips, clip_len × 2, H, W), the
                # channels x₀ y₀ x₁ y₁ … (MMAction2's layout, which its in_channels expects).
                imgs = imgs.reshape((-1, int(results["clip_len"]) * imgs.shape[1], *imgs.shape[2:]))
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(f"collapse=True needs one view, there are {imgs.shape[0]}")
            imgs = imgs[0]
        results["imgs"] = np.ascontiguousarray(imgs)
        results["input_shape"] = imgs.shape
        return results


class PackActionInputs:
    """The model's input (a uint8 tensor) and the target, plus the sample's metadata."""

    def __init__(
        self,
        collect_keys: tuple[str, ...] | None = None,
        meta_keys: tuple[str, ...] = ("img_shape", "img_key", "video_id", "timestamp"),
        algorithm_keys: tuple[str, ...] = (),
    ) -> None:
        if collect_keys:
            raise config_error("collect_keys", "only 'imgs' is packed (RGB video recognition)")
        if algorithm_keys:
            raise config_error(
                "algorithm_keys", "no ethoclip model reads extra per-sample keys; leave it empty"
            )
        self.meta_keys = meta_keys

    def __call__(self, results: Results) -> dict[str, Any]:
        label = results.get("label", -1)
        if isinstance(label, torch.Tensor):
            target = label.float()
        else:
            target = torch.tensor(int(label), dtype=torch.int64)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.update(
            filename=results.get("filename"),
            frame_inds=np.asarray(results.get("frame_inds", [])).tolist(),
        )
        return {"inputs": torch.from_numpy(_imgs(results)), "label": target, "meta": meta}
