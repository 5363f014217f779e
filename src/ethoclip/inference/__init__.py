"""Prediction: top-k labels of clips, behaviour timelines and bouts of long videos, VIA
projects to correct, overlay videos. One decoding pass per video, bounded memory."""

from ._bouts import Bout, BoutMatch, BoutOptions, find_bouts, match_bouts
from ._export import via_project
from ._model import ClipModel, load_model
from ._predict import (
    PredictOptions,
    VideoResult,
    not_learned,
    predict,
    predict_video,
    remove_objects,
    videos_in,
)
from ._windows import Scored, Windows, plan_windows, score_video

__all__ = [
    "Bout",
    "BoutMatch",
    "BoutOptions",
    "ClipModel",
    "PredictOptions",
    "Scored",
    "VideoResult",
    "Windows",
    "find_bouts",
    "load_model",
    "match_bouts",
    "not_learned",
    "plan_windows",
    "predict",
    "predict_video",
    "remove_objects",
    "score_video",
    "via_project",
    "videos_in",
]
