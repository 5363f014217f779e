"""Recognizers = backbone + cls_head + data_preprocessor, under MMAction2's names: MMAction2's
own architectures in ``backbones/`` and ``heads/``, others built on torchvision and transformers.
``build_recognizer`` makes one that agrees with its data."""

from ._backbones import TinyVideoNet, TVResNet2Plus1d18, TVResNet3d18, TVSwinTransformer3D
from ._build import build_recognizer, load_weights, mmaction_keys
from ._heads import AvgConsensus, BaseHead, I3DHead, LinearHead, TimeSformerHead, TSNHead
from ._losses import BCELossWithLogits, CrossEntropyLoss
from ._preprocessor import ActionDataPreprocessor
from ._recognizers import BaseRecognizer, Recognizer2D, Recognizer3D
from ._transformers import HFTimeSformer, HFVideoMAE
from ._weights import hub_checkpoints, load_into, state_dict_from
from .backbones.resnet import ResNet

__all__ = [
    "ActionDataPreprocessor",
    "AvgConsensus",
    "BCELossWithLogits",
    "BaseHead",
    "BaseRecognizer",
    "CrossEntropyLoss",
    "HFTimeSformer",
    "HFVideoMAE",
    "I3DHead",
    "LinearHead",
    "Recognizer2D",
    "Recognizer3D",
    "ResNet",
    "TSNHead",
    "TVResNet2Plus1d18",
    "TVResNet3d18",
    "TVSwinTransformer3D",
    "TimeSformerHead",
    "TinyVideoNet",
    "build_recognizer",
    "hub_checkpoints",
    "load_into",
    "load_weights",
    "mmaction_keys",
    "state_dict_from",
]
