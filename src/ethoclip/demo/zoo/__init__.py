"""The behaviour zoo: synthetic projects unlike the demo and unlike each other, each with the
exact time of every bout (``ground_truth.json``), to show the default path learns behaviour
it was never tuned to."""

from ._common import GROUND_TRUTH, ZooMade, ZooProject, generate_zoo_project, read_ground_truth
from .crab_pair import PROJECT as CRAB_PAIR
from .fish_tank import PROJECT as FISH_TANK
from .insect_leaf import PROJECT as INSECT_LEAF
from .perch_bird import PROJECT as PERCH_BIRD

PROJECTS: dict[str, ZooProject] = {
    p.name: p for p in (PERCH_BIRD, FISH_TANK, CRAB_PAIR, INSECT_LEAF)
}

__all__ = [
    "GROUND_TRUTH",
    "PROJECTS",
    "ZooMade",
    "ZooProject",
    "generate_zoo_project",
    "read_ground_truth",
]
