"""Recognizers = backbone + cls_head + data_preprocessor, under MMAction2's names, built on
torchvision and transformers. ``build_recognizer`` makes one that agrees with its data."""

from ._backbones import ResNet2Plus1d, ResNet3d, SwinTransformer3D, TinyVideoNet
from ._build import build_recognizer, load_weights, mmaction_keys
from ._heads import AvgConsensus, BaseHead, I3DHead, LinearHead, TimeSformerHead, TSNHead
from ._losses import BCELossWithLogits, CrossEntropyLoss
from ._preprocessor import ActionDataPreprocessor
from ._recognizers import BaseRecognizer, Recognizer2D, Recognizer3D
from ._transformers import TimeSformer, VisionTransformer
from ._weights import hub_checkpoints, load_into, state_dict_from
from .backbones.resnet import ResNet

__all__ = [
    "ActionDataPreprocessor",
    "AvgConsensus",
    "BCELossWithLogits",
    "BaseHead",
    "BaseRecognizer",
    "CrossEntropyLoss",
    "I3DHead",
    "LinearHead",
    "Recognizer2D",
    "Recognizer3D",
    "ResNet",
    "ResNet2Plus1d",
    "ResNet3d",
    "SwinTransformer3D",
    "TSNHead",
    "TimeSformer",
    "TimeSformerHead",
    "TinyVideoNet",
    "VisionTransformer",
    "build_recognizer",
    "hub_checkpoints",
    "load_into",
    "load_weights",
    "mmaction_keys",
    "state_dict_from",
]
