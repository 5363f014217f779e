"""The behaviour zoo: projects that validate cleanly, VIA files that say exactly what the
ground truth says, scenes whose behaviour starts (and ends) exactly at its annotated edges."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ethoclip.annotations import load_via_project
from ethoclip.cli import main
from ethoclip.dataset import load_inputs
from ethoclip.demo._scene import Bout
from ethoclip.demo.zoo import (
    GROUND_TRUTH,
    PROJECTS,
    ZooProject,
    crab_pair,
    fish_tank,
    insect_leaf,
    perch_bird,
    read_ground_truth,
)
from ethoclip.demo.zoo._common import SIM_HZ, ZooVideo, generate_zoo_project, sim_index
from ethoclip.demo.zoo._draw import Canvas
from ethoclip.media import probe_video

NAMES = sorted(PROJECTS)


def small(
    project: ZooProject,
    videos: int = 2,
    seconds: float = 12.0,
    chosen: tuple[ZooVideo, ...] | None = None,
) -> ZooProject:
    """The same project, fewer (or the ``chosen``), shorter, smaller videos (the scene is
    drawn at any size); a video with its own size keeps its own, smaller too."""
    return dataclasses.replace(
        project,
        videos=tuple(
            dataclasses.replace(
                v,
                duration_sec=seconds,
                size=None if v.size is None else (v.size[0] // 4, v.size[1] // 4),
            )
            for v in (project.videos[:videos] if chosen is None else chosen)
        ),
        width=project.width // 4,
        height=project.height // 4,
    )


@pytest.mark.parametrize("name", NAMES)
def test_project_validates_and_via_says_what_ground_truth_says(name: str, tmp_path: Path) -> None:
    project = small(PROJECTS[name])
    made = generate_zoo_project(project, tmp_path, seed=3)
    inputs = load_inputs(tmp_path)
    assert inputs.issues == []
    truth = read_ground_truth(tmp_path)
    assert sorted(truth) == sorted(m.path.relative_to(tmp_path).as_posix() for m in made)
    via_bouts: dict[str, list[Bout]] = {}
    for via in tmp_path.glob("*/*/via/*.json"):
        parsed = load_via_project(via)
        session = via.parent.parent.relative_to(tmp_path).as_posix()
        for s in parsed.segments:
            key = f"{session}/video/{s.video}"
            via_bouts.setdefault(key, []).append(Bout(s.labels[0][1], s.start, s.end))
    for video, bouts in truth.items():
        key = lambda b: (b.start_sec, b.label)  # noqa: E731
        assert sorted(via_bouts.get(video, []), key=key) == sorted(bouts, key=key)
        assert all(b.end_sec - b.start_sec >= 1.1 for b in bouts)
        probe = probe_video(tmp_path / video)
        assert float(probe.stream(0).fps_exact) == next(
            m.fps for m in made if m.path == tmp_path / video
        )
    labels = {b.label for bouts in truth.values() for b in bouts}
    assert labels <= set(project.labels)
    assert json.loads((tmp_path / GROUND_TRUTH).read_text())["fps"] == project.fps


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_project_other_seed_other_project(name: str) -> None:
    project = PROJECTS[name]
    first = project.plan(40.0, np.random.default_rng(7))
    assert first == project.plan(40.0, np.random.default_rng(7))
    assert first != project.plan(40.0, np.random.default_rng(8))
    a = project.scene(first, 40.0, 11).render(5, 10.0, 80, 60)
    b = project.scene(first, 40.0, 11).render(5, 10.0, 80, 60)
    assert np.array_equal(a, b)
    # Every label occurs in a long enough plan; overlays also overlap others (multi-label).
    plans = [project.plan(48.0, np.random.default_rng(s)) for s in range(6)]
    assert {b.label for p in plans for b in p} == set(project.labels)
    assert any(
        x.label != y.label and x.start_sec < y.end_sec and y.start_sec < x.end_sec
        for p in plans
        for x in p
        for y in p
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_bout_changes_nothing_before_its_start_and_shows_right_after(name: str) -> None:
    """Remove one bout: the video is the same up to the bout's start (less the label's lead),
    and different 0.2 s into it. So what is annotated starts exactly where it is shown."""
    project = PROJECTS[name]
    bouts = project.plan(48.0, np.random.default_rng(2))
    size = (project.width // 2, project.height // 2)
    full = project.scene(bouts, 48.0, 5)
    checked = 0
    for bout in bouts:
        if bout.start_sec < 1.0:
            continue
        without = project.scene([b for b in bouts if b is not bout], 48.0, 5)
        before = bout.start_sec - project.lead_sec.get(bout.label, 0.0) - 1 / project.fps
        inside = bout.start_sec + 0.2
        assert np.array_equal(full.render(0, before, *size), without.render(0, before, *size))
        assert not np.array_equal(
            full.render(0, inside, *size), without.render(0, inside, *size)
        ), (
            bout,
            "is not visible 0.2 s into it",
        )
        checked += 1
    assert checked >= 5


def _ticks(bouts: list[Bout], label: str, n: int) -> np.ndarray:
    on = np.zeros(n, bool)
    for b in bouts:
        if b.label == label:
            on[round(b.start_sec * SIM_HZ) : round(b.end_sec * SIM_HZ)] = True
    return on


def test_bird_flies_exactly_while_switching_and_is_fluffed_exactly_while_fluffed() -> None:
    bouts = perch_bird.plan(48.0, np.random.default_rng(4))
    scene = perch_bird.BirdScene(bouts, 48.0, 1)
    n = scene.state.shape[0] - 2
    wing, fluff = scene.state[:n, 6], scene.state[:n, 5]
    assert np.array_equal(wing != 0, _ticks(bouts, "switch", n))
    assert np.array_equal(fluff != 0, _ticks(bouts, "fluffed", n))


def test_fish_is_at_the_surface_exactly_during_surface_bouts() -> None:
    bouts = fish_tank.plan(48.0, np.random.default_rng(1))
    assert any(b.label == "surface" for b in bouts)
    scene = fish_tank.FishScene(bouts, 48.0, 1)
    n = scene.state.shape[0] - 2
    at_surface = np.abs(scene.state[:n, 1] - fish_tank.SURFACE_Y) < 1e-9
    assert np.array_equal(at_surface, _ticks(bouts, "surface", n))


def test_crabs_touch_exactly_when_an_approach_ends() -> None:
    bouts = crab_pair.plan(36.0, np.random.default_rng(0))
    scene = crab_pair.CrabScene(bouts, 36.0, 1)
    s = scene.state
    distance = np.hypot(s[:, 4] - s[:, 0], s[:, 5] - s[:, 1])
    approaches = [b for b in bouts if b.label == "approach"]
    assert approaches
    for b in approaches:
        last = sim_index(b.end_sec, s.shape[0]) - 1
        first = sim_index(b.start_sec, s.shape[0])
        assert distance[last] == pytest.approx(crab_pair.CONTACT_DIST, abs=0.6)
        assert distance[first] > crab_pair.CONTACT_DIST + 20
    n = s.shape[0] - 2
    assert np.array_equal(s[:n, 8] != 0, _ticks(bouts, "display", n))


def test_insect_sessions_keep_their_own_frame_rate_and_size(tmp_path: Path) -> None:
    """One video of each session: the 25 fps session and the larger camera's session are
    written, probed and recorded as such; the others at the project's 30 fps and size."""
    project = PROJECTS["insect_leaf"]
    first = tuple({v.session: v for v in reversed(project.videos)}.values())
    assert len(first) == 5
    made = generate_zoo_project(small(project, seconds=4.0, chosen=first), tmp_path, seed=1)
    assert load_inputs(tmp_path).issues == []
    truth = json.loads((tmp_path / GROUND_TRUTH).read_text())
    seen = {}
    for m in made:
        video = m.path.relative_to(tmp_path).as_posix()
        stream = probe_video(m.path).stream(0)
        seen[m.session] = (float(stream.fps_exact), (stream.width, stream.height))
        assert truth["video_fps"][video] == seen[m.session][0]
        assert tuple(truth["video_size"][video]) == seen[m.session][1]
    assert seen == {
        "garden/0702": (30.0, (80, 60)),
        "garden/0709": (25.0, (80, 60)),
        "garden/0716": (30.0, (80, 60)),
        "meadow/0704": (30.0, (96, 72)),
        "meadow/0711": (30.0, (80, 60)),
    }


@pytest.mark.parametrize("seed", [0, 3])
def test_insect_is_on_the_margin_band_exactly_during_edge_and_moves_only_walking(
    seed: int,
) -> None:
    bouts = insect_leaf.plan(40.0, np.random.default_rng(seed))
    assert sum(b.label == "edge" for b in bouts) >= 2
    scene = insect_leaf.InsectScene(bouts, 40.0, seed)
    n = scene.state.shape[0] - 2
    x, y, heading = scene.state[:n, 0], scene.state[:n, 1], scene.state[:n, 2]
    rho = np.array([insect_leaf.leaf_rho(a, b) for a, b in zip(x, y, strict=True)])
    assert np.array_equal(rho >= insect_leaf.EDGE_RHO, _ticks(bouts, "edge", n))
    assert rho.max() < 0.9  # on the band, never over the margin
    # Translation only while walking; rotation only while walking or turning.
    walking = _ticks(bouts, "walk", n)[1:]
    moved = (np.diff(x) != 0) | (np.diff(y) != 0)
    assert not (moved & ~walking).any()
    assert moved[walking].mean() > 0.95
    turned = np.diff(heading) != 0
    assert not (turned & ~(walking | _ticks(bouts, "turn", n)[1:])).any()
    # Every edge bout overlaps something else done on the margin, or a walk along it.
    for e in (b for b in bouts if b.label == "edge"):
        assert any(
            b.label != "edge" and b.start_sec < e.end_sec and e.start_sec < b.end_sec for b in bouts
        )


def _insect_pixels(scene: insect_leaf.InsectScene, t: float) -> np.ndarray:
    """The insect alone at ``t``, drawn in world coordinates: no camera, leaf, light or noise."""
    canvas = Canvas(np.zeros((264, 344, 3), np.float32), 1.0, (0.0, 0.0))
    insect_leaf.draw_insect(canvas, scene.state[sim_index(t, scene.state.shape[0])])
    return canvas.image


def test_still_insect_draws_the_same_pixels_and_idle_or_grooming_ones_do_not() -> None:
    bouts = insect_leaf.plan(48.0, np.random.default_rng(5))
    scene = insect_leaf.InsectScene(bouts, 48.0, 2)
    fps = 25.0
    stills = [b for b in bouts if b.label == "still"]
    assert stills
    for b in stills:
        times = np.arange(np.ceil(b.start_sec * fps - 1e-6), np.ceil(b.end_sec * fps - 1e-6)) / fps
        first = _insect_pixels(scene, times[0])
        assert first.any()
        for t in times[1:]:
            assert np.array_equal(_insect_pixels(scene, t), first), (b, t)
        # The frames themselves differ still (camera shake, flicker, noise, the leaf).
        a, c = scene.render(0, times[0], 80, 60), scene.render(1, times[-1], 80, 60)
        assert not np.array_equal(a, c)
    for label in ("groom", "turn"):
        b = next(b for b in bouts if b.label == label)
        mid = round((b.start_sec + 0.5) * fps) / fps
        assert not np.array_equal(_insect_pixels(scene, mid), _insect_pixels(scene, mid + 0.2))
    # Standing between bouts (unlabelled) is not still: the antennae sweep.
    labelled = np.zeros(48 * 10, bool)
    for b in bouts:
        if b.label != "edge":
            labelled[round(b.start_sec * 10) : round(b.end_sec * 10)] = True
    gaps = np.flatnonzero(~labelled[10:-10]) + 10
    assert gaps.size
    t = gaps[0] / 10
    assert not np.array_equal(_insect_pixels(scene, t), _insect_pixels(scene, t + 0.08))


def test_demo_data_writes_a_zoo_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(PROJECTS, "fish_tank", small(PROJECTS["fish_tank"], 1, 6.0))
    assert main(["demo-data", str(tmp_path / "fish"), "--project", "fish_tank"]) == 0
    assert "fish_tank" in capsys.readouterr().out
    assert len(read_ground_truth(tmp_path / "fish")) == 1
    with pytest.raises(SystemExit):
        main(["demo-data", str(tmp_path / "x"), "--project", "unicorn"])
