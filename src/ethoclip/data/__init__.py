"""Data for training and prediction: MMAction2's datasets and transforms on PyAV.

``VideoDataset`` reads MMAction2 list files, ``ClipDataset`` a ``prepare`` folder; the
transforms keep MMAction2's names and semantics; decoding is ethoclip's frame-exact reader.
"""

from ._datasets import ClipDataset, ClipSamples, VideoDataset, collate
from ._decode import VideoDecode, VideoInit, cached_probe
from ._loader import build_dataloader, build_dataset
from ._pipeline import Compose
from ._samplers import DefaultSampler
from ._sampling import DenseSampleFrames, SampleFrames, UniformSample
from ._transforms import (
    CenterCrop,
    Flip,
    FormatShape,
    MultiScaleCrop,
    PackActionInputs,
    RandomCrop,
    RandomRescale,
    RandomResizedCrop,
    Resize,
    TenCrop,
    ThreeCrop,
    rescale_size,
    resize_frames,
)

__all__ = [
    "CenterCrop",
    "ClipDataset",
    "ClipSamples",
    "Compose",
    "DefaultSampler",
    "DenseSampleFrames",
    "Flip",
    "FormatShape",
    "MultiScaleCrop",
    "PackActionInputs",
    "RandomCrop",
    "RandomRescale",
    "RandomResizedCrop",
    "Resize",
    "SampleFrames",
    "TenCrop",
    "ThreeCrop",
    "UniformSample",
    "VideoDataset",
    "VideoDecode",
    "VideoInit",
    "build_dataloader",
    "build_dataset",
    "cached_probe",
    "collate",
    "rescale_size",
    "resize_frames",
]
