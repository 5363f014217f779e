"""prepare on the demo project: clips hold exactly their windows' frames; lists, splits, resume."""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ethoclip.dataset import (
    ClipRecord,
    InvalidInputError,
    OptionError,
    PlanOptions,
    PrepareOptions,
    prepare_dataset,
    read_manifest,
)
from ethoclip.demo import read_frame_code
from ethoclip.demo._video import StreamSpec, VideoSpec, write_video
from ethoclip.errors import DatasetError, MediaError
from ethoclip.media import ClipWriteError, probe_video

TWO_STREAM = "Feb/2_5_park/video/020500.mp4"


def opts(**plan: object) -> PrepareOptions:
    """PrepareOptions from keywords: its own fields, and the rest for PlanOptions."""
    own = {f.name for f in dataclasses.fields(PrepareOptions)} - {"plan"}
    extra = {k: plan.pop(k) for k in list(plan) if k in own}
    return PrepareOptions(plan=PlanOptions(**plan), **extra)  # type: ignore[arg-type]


@pytest.fixture
def dataset(demo_dataset: Path) -> Path:
    return demo_dataset


def clip_codes(path: Path) -> tuple[list[int], av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        codes = [read_frame_code(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return codes, probe_video(path)


@functools.cache
def source_pts(path: Path, stream: int) -> np.ndarray:
    return probe_video(path).stream(stream).pts


def expected_codes(demo_root: Path, entry: ClipRecord) -> list[int]:
    """The oracle, from the README's definition: the source frame on screen k/fps after the
    window's start (searchsorted written out here, not the code under test)."""
    pts = source_pts(demo_root / entry.source_video, entry.source_stream)
    # Identity time map: the window's start is a time on the source stream's clock too.
    times = entry.start + np.arange(entry.num_frames) / entry.fps
    indices = np.searchsorted(pts, times + 5e-4, side="right") - 1
    # Frame codes count each stream's own frames from 0.
    return indices.tolist()


def check_every_clip(demo_root: Path, out: Path) -> list[ClipRecord]:
    entries = read_manifest(out)
    assert entries
    for entry in entries:
        codes, probe = clip_codes(out / entry.clip)
        assert codes == expected_codes(demo_root, entry), entry.clip
        assert [s.type for s in probe.streams] == ["video"]  # one stream, no audio
        stream = probe.stream(0)
        assert stream.codec == "h264" and not stream.vfr
        assert min(stream.width, stream.height) == 256
        assert stream.frames == entry.num_frames == 48  # 4 s at 12 fps
    return entries


def test_each_clip_holds_exactly_its_window(demo_root: Path, dataset: Path) -> None:
    entries = check_every_clip(demo_root, dataset)
    vfr = [e for e in entries if e.source_video.endswith("030100.mp4")]
    assert vfr and all(e.fps == 12 for e in vfr)  # the VFR video: constant 12 fps clips
    assert {tuple(e.labels) for e in entries} >= {("sit", "wag"), ("run",)}


@pytest.mark.slow
@pytest.mark.parametrize("stream", ["1", "best"])
def test_second_stream_drops_windows_before_it_starts(
    demo_root: Path, tmp_path: Path, stream: str
) -> None:
    out = tmp_path / "ds"
    prepare_dataset(
        demo_root,
        out,
        opts(stream=int(stream) if stream.isdigit() else stream, stride_sec=2.0, workers=2),
    )
    entries = check_every_clip(demo_root, out)
    two = [e for e in entries if e.source_video == TWO_STREAM]
    assert two and all(e.source_stream == 1 for e in two)
    assert min(e.start for e in two) >= 0.5  # nothing before the late stream starts
    # The first window starts at 0 on the annotated stream: dropped and reported.
    summary = (out / "dataset.txt").read_text()
    assert "before the source stream starts: 1" in summary
    assert "pixels from stream 1" in summary
    others = [e for e in entries if e.source_video != TWO_STREAM]
    assert all(e.source_stream == 0 for e in others)


def test_lists_follow_mmaction2_format(dataset: Path) -> None:
    labels = (dataset / "label_map.txt").read_text().splitlines()
    assert labels == ["jump", "run", "sit", "spin", "wag", "walk"]
    manifest = {e.clip: e for e in read_manifest(dataset)}
    listed = 0
    for split in ("train", "val"):
        for line in (dataset / f"{split}.txt").read_text().splitlines():
            path, *ids = line.split(" ")
            assert line == line.strip() and (dataset / path).is_file()
            assert ids and all(0 <= int(i) < len(labels) for i in ids)
            assert tuple(labels[int(i)] for i in ids) == manifest[path].labels
            assert manifest[path].split == split
            listed += 1
    assert listed == len(manifest)
    assert not (dataset / "test.txt").exists()


def test_manifest_fields(demo_root: Path, dataset: Path) -> None:
    raw = json.loads((dataset / "manifest.jsonl").read_text().splitlines()[0])
    fields = [f.name for f in dataclasses.fields(ClipRecord)]
    assert list(raw) == fields  # the file holds exactly the typed record, in its order
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table_row = next(line for line in readme.splitlines() if line.startswith("| `manifest.jsonl`"))
    assert [f for f in fields if f"`{f}`" not in table_row] == []  # the README lists them all
    entry = read_manifest(dataset)[0]
    assert (demo_root / entry.via_file).is_file()
    via = json.loads((demo_root / entry.via_file).read_text())
    assert set(entry.segment_ids) <= set(via["metadata"])
    assert entry.rate == Fraction(12) and entry.fps_exact == "12"


def test_no_video_in_two_splits(dataset: Path, demo_root: Path, tmp_path: Path) -> None:
    def splits_of(out: Path, key: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for e in read_manifest(out):
            found.setdefault(getattr(e, key), set()).add(e.split)
        return found

    by_video = splits_of(dataset, "source_video")
    assert len(by_video) == 6 and all(len(s) == 1 for s in by_video.values())
    assert {s for v in by_video.values() for s in v} == {"train", "val"}
    out = tmp_path / "by_session"
    prepare_dataset(demo_root, out, opts(split_by="session", val_fraction=0.3, workers=2))
    by_session = splits_of(out, "session")
    assert all(len(s) == 1 for s in by_session.values())
    assert "val" in {s for v in by_session.values() for s in v}


def test_background_keep_writes_path_only_lines(demo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "bg"
    prepare_dataset(demo_root, out, opts(windows="video", background="keep", workers=2))
    lines = [
        line
        for split in ("train", "val")
        for line in (out / f"{split}.txt").read_text().splitlines()
    ]
    background = [line for line in lines if " " not in line]
    assert background and all(line.endswith("_background.mp4") for line in background)


def test_rerun_reuses_and_renamed_labels_rebuild(demo_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(demo_root, root)
    out = tmp_path / "ds"
    first = prepare_dataset(root, out, opts(workers=1))
    again = prepare_dataset(root, out, opts(workers=1))
    assert (again.written, again.reused, again.removed_stale) == (0, first.clips, 0)
    # Rename "wag" to "tail_wag" in every project, as a user would in VIA.
    for via in root.rglob("via/*.json"):
        data = json.loads(via.read_text())
        options = data["attribute"]["1"]["options"]
        options.update({k: "tail_wag" for k, v in options.items() if v == "wag"})
        via.write_text(json.dumps(data))
    third = prepare_dataset(root, out, opts(workers=1))
    labels = (out / "label_map.txt").read_text().splitlines()
    assert "tail_wag" in labels and "wag" not in labels
    renamed = [e for e in read_manifest(out) if "tail_wag" in e.labels]
    assert renamed and third.written == len(renamed) and third.removed_stale == len(renamed)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.mp4")}
    assert on_disk == {e.clip for e in read_manifest(out)}  # no stale "wag" clip left
    for e in read_manifest(out):
        assert tuple(labels[i] for i in e.label_ids) == e.labels


def test_invalid_input_stops_before_writing(tmp_path: Path, missing_videos_root: Path) -> None:
    out = tmp_path / "never"
    with pytest.raises(InvalidInputError) as info:
        prepare_dataset(missing_videos_root, out)
    assert not out.exists()
    messages = {i.message for i in info.value.issues if i.severity == "error"}
    assert "video not found" in messages
    assert "nothing was written" in str(info.value)


def test_skip_invalid_goes_on_without_the_bad_video(demo_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(demo_root, root)
    (root / "Feb/2_2_kt/video/020230.mp4").unlink()
    with pytest.raises(InvalidInputError):
        prepare_dataset(root, tmp_path / "a")
    out = tmp_path / "b"
    result = prepare_dataset(root, out, opts(skip_invalid=True, workers=1))
    assert result.skipped == ["2_2_kt/020230.mp4"]
    assert not any("020230" in e.clip for e in read_manifest(out))
    assert "2_2_kt/020230.mp4" in (out / "dataset.txt").read_text()


def test_video_failing_midway_loses_only_its_clips(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.media import _reader

    original = _reader.VideoReader._decode_until

    def flaky(self: _reader.VideoReader, target: int) -> object:
        if self.path.name == "020515.mp4" and target > 200 * self.info.pts_ticks[1]:
            raise MediaError(f"{self.path}: decoding failed near pts {target} (test)")
        return original(self, target)

    monkeypatch.setattr(_reader.VideoReader, "_decode_until", flaky)
    out = tmp_path / "ds"
    result = prepare_dataset(demo_root, out, opts(workers=1))
    assert list(result.failed) == ["2_5_park/020515.mp4"]
    assert not list(out.rglob("*020515*"))  # its partial clips are gone
    entries = read_manifest(out)
    assert entries and not any("020515" in e.clip for e in entries)
    assert all((out / e.clip).is_file() for e in entries)
    assert "FAILED: " in (out / "dataset.txt").read_text()


def test_full_disk_is_a_clear_error(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.media import _encode

    calls = {"n": 0}
    original = _encode.ClipEncoder.write

    def write(self: _encode.ClipEncoder, frame: object) -> None:
        calls["n"] += 1
        if calls["n"] > 300:
            raise ClipWriteError(
                f"{self.path}: writing failed (No space left on device)", errno.ENOSPC
            )
        original(self, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(_encode.ClipEncoder, "write", write)
    out = tmp_path / "ds"
    with pytest.raises(
        DatasetError,
        match=r"cannot write clips \(No space left on device\)"
        r".*free disk space.*finished clips are kept",
    ):
        prepare_dataset(demo_root, out, opts(workers=1))
    assert not list(out.rglob("*.part"))
    kept = list(out.rglob("*.mp4"))
    assert len(kept) == 300 // 48  # the clips finished before the disk filled up


def test_unwritable_output(demo_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(DatasetError, match="exists and is not a folder"):
        prepare_dataset(demo_root, target)
    with pytest.raises(DatasetError, match=r"/proc/ethoclip-test: cannot write there"):
        prepare_dataset(demo_root, Path("/proc/ethoclip-test"))
    with pytest.raises(DatasetError, match="is the input folder; choose another output folder"):
        prepare_dataset(demo_root, demo_root)


def test_bad_options_are_all_reported(demo_root: Path, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=r"clip_sec must be positive.*min_overlap") as info:
        opts(clip_sec=-1, min_overlap=2)
    assert [name for name, _ in info.value.problems] == ["clip_sec", "min_overlap"]
    with pytest.raises(DatasetError, match=r"unknown field\(s\) camera; use \{session\}"):
        opts(name_template="{camera}_{start}")
    with pytest.raises(DatasetError, match=r"clip name.* would be used twice.*add \{index\}"):
        prepare_dataset(demo_root, tmp_path / "x", opts(name_template="{session}"))
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_kill_and_rerun_gives_the_clean_dataset(
    demo_root: Path, dataset: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "ethoclip",
        "prepare",
        str(demo_root),
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    journal = out / ".ethoclip" / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 10:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "prepare finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the main process and its workers, mid-write
    proc.wait()
    assert not (out / "manifest.jsonl").exists()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert " reused" in done.stdout
    reused = int(done.stdout.split(" written, ")[1].split(" reused")[0])
    assert reused >= 10
    assert (out / "manifest.jsonl").read_bytes() == (dataset / "manifest.jsonl").read_bytes()
    for name in ("label_map.txt", "train.txt", "val.txt", "dataset.txt"):
        assert (out / name).read_bytes() == (dataset / name).read_bytes(), name
    assert not list(out.rglob("*.part"))
    for entry in read_manifest(out):
        # Every clip holds the same source frames as in the clean run. Bytes usually match
        # too; rarely a clip's pixels differ by a level or two (scaler rounding), so pixels are
        # compared with a tolerance instead of hashes.
        with av.open(str(out / entry.clip)) as a, av.open(str(dataset / entry.clip)) as b:
            for fa, fb in zip(a.decode(video=0), b.decode(video=0), strict=True):
                x, y = fa.to_ndarray(format="rgb24"), fb.to_ndarray(format="rgb24")
                assert read_frame_code(x) == read_frame_code(y), entry.clip
                assert np.abs(x.astype(np.int16) - y).mean() < 1.0, entry.clip


@pytest.mark.parametrize(("fps", "step"), [(6.0, 2.0), (24.0, 0.5)])
def test_other_clip_rates_sample_uniformly_in_time(
    demo_root: Path, tmp_path: Path, fps: float, step: float
) -> None:
    out = tmp_path / "ds"
    prepare_dataset(demo_root, out, opts(fps=fps, workers=2))
    entries = [e for e in read_manifest(out) if e.source_video.endswith("020200.mp4")]
    assert entries and all(e.num_frames == round(4 * fps) for e in entries)
    for entry in entries[:3]:
        codes, _ = clip_codes(out / entry.clip)
        first = entry.first_source_frame
        # The source runs at 12 fps: at 6 fps every other frame, at 24 fps each frame twice.
        assert codes == [first + int(k * step) for k in range(entry.num_frames)]


def test_dry_run_writes_nothing_and_predicts_the_summary(
    demo_root: Path, dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "not_yet"
    planned = prepare_dataset(demo_root, out, opts(workers=2, dry_run=True))
    assert not out.exists() and planned.written == 0
    # The same options as the ``dataset`` fixture: the summary it wrote is what was predicted.
    assert planned.summary == (dataset / "dataset.txt").read_text()
    assert planned.clips == len(read_manifest(dataset))


def test_label_map_fixes_ids_and_rejects_what_it_lacks(demo_root: Path, tmp_path: Path) -> None:
    fixed = tmp_path / "labels.txt"
    fixed.write_text("walk\nrun\nsit\nspin\njump\nwag\n")
    out = tmp_path / "ds"
    prepare_dataset(demo_root, out, opts(label_map=fixed, workers=2, dry_run=True))
    result = prepare_dataset(demo_root, out, opts(label_map=fixed, workers=2))
    assert result.labels == ["walk", "run", "sit", "spin", "jump", "wag"]
    assert (out / "label_map.txt").read_text() == fixed.read_text()
    short = tmp_path / "short.txt"
    short.write_text("walk\nrun\nsit\nspin\njump\n")  # no "wag"
    with pytest.raises(InvalidInputError) as info:
        prepare_dataset(demo_root, tmp_path / "other", opts(label_map=short))
    assert {i.value for i in info.value.issues if "not in the label map" in i.message} == {"wag"}
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"missing\.txt: cannot read the label map"),
        ("walk\n\nrun\n", r"label map has empty lines or repeated names"),
        ("walk\nrun\nwalk\n", r"repeated names \(walk\); write one distinct class name"),
    ],
)
def test_bad_label_maps(demo_root: Path, tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "missing.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        prepare_dataset(demo_root, tmp_path / "ds", opts(label_map=path))


def test_malformed_name_template() -> None:
    with pytest.raises(OptionError, match=r"name_template '\{start' is malformed"):
        opts(name_template="{start")


def snapshot(out: Path) -> dict[str, str]:
    """Every file of a dataset folder and a hash of its bytes."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_a_failure_on_every_video_leaves_the_dataset_as_it_was(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.media import _encode

    out = tmp_path / "ds"
    prepare_dataset(demo_root, out, opts(workers=1))
    before = snapshot(out)

    def broken(self: _encode.ClipEncoder, frame: object) -> None:
        raise MediaError(f"{self.path}: the encoder broke (test)")

    monkeypatch.setattr(_encode.ClipEncoder, "write", broken)
    # New encoder settings: every clip is re-encoded, beside the one it would replace.
    with pytest.raises(DatasetError, match=r"every video that needed new clips failed.*as it was"):
        prepare_dataset(demo_root, out, opts(workers=1, crf=23))
    assert snapshot(out) == before  # not one clip, list or summary changed


def test_a_failed_video_keeps_the_clips_of_the_earlier_run(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.media import _reader

    out = tmp_path / "ds"
    prepare_dataset(demo_root, out, opts(workers=1))
    before = snapshot(out)
    earlier = {e.clip: e for e in read_manifest(out) if "020515" in e.clip}
    original = _reader.VideoReader._decode_until

    def flaky(self: _reader.VideoReader, target: int) -> object:
        if self.path.name == "020515.mp4" and target > 200 * self.info.pts_ticks[1]:
            raise MediaError(f"{self.path}: decoding failed near pts {target} (test)")
        return original(self, target)

    monkeypatch.setattr(_reader.VideoReader, "_decode_until", flaky)
    result = prepare_dataset(demo_root, out, opts(workers=1, crf=23))
    assert list(result.failed) == ["2_5_park/020515.mp4"]
    after = snapshot(out)
    assert earlier and all(after[clip] == before[clip] for clip in earlier)  # untouched
    assert not [p for p in after if p.endswith((".new", ".part"))]
    entries = read_manifest(out)
    kept = [e for e in entries if "020515" in e.clip]
    assert {e.clip: e.recipe for e in kept} == {c: e.recipe for c, e in earlier.items()}
    others = [e for e in entries if "020515" not in e.clip]
    assert others and all(after[e.clip] != before[e.clip] for e in others)  # re-encoded
    summary = (out / "dataset.txt").read_text()
    assert f"kept {len(kept)} clip(s) of the earlier run" in summary and "FAILED: " in summary
    # The next run, with nothing failing, finishes the job.
    monkeypatch.setattr(_reader.VideoReader, "_decode_until", original)
    last = prepare_dataset(demo_root, out, opts(workers=1, crf=23))
    assert last.written == len(kept) and not last.failed


def coded_project(root: Path, times: list[float], *, clip_sec: float) -> Path:
    """One session with one video whose frame times the test knows, annotated end to end."""
    write_video(
        root / "s" / "video" / "v.mp4",
        VideoSpec([StreamSpec(96, 64, times, time_base=Fraction(1, 1000))]),
    )
    (root / "s" / "via").mkdir(parents=True)
    (root / "s" / "via" / "p.json").write_text(
        json.dumps(
            {
                "project": {},
                "config": {},
                "attribute": {"1": {"aname": "b", "anchor_id": "FILE1_Z2_XY0", "type": 1}},
                "file": {"1": {"fid": "1", "fname": "v.mp4", "type": 4, "loc": 1, "src": ""}},
                "metadata": {"1_a": {"vid": "1", "z": [0, times[-1]], "xy": [], "av": {"1": "x"}}},
                "view": {"1": {"fid_list": ["1"]}},
            }
        )
    )
    return root


def on_screen(times: list[float], t: float) -> int:
    """The oracle, written out: the last frame whose time is ≤ t (VIA's 3-decimal tolerance)."""
    return max(i for i, start in enumerate(times) if start <= t + 5e-4)


@pytest.mark.parametrize("fps", [None, 7.0, 25.0])
def test_frame_k_is_on_screen_k_over_fps_after_the_window_start(
    tmp_path: Path, fps: float | None
) -> None:
    """A phone-like VFR file whose first frame lasts 184 ms: windows every 0.13 s."""
    times = [0.0, 0.184] + [
        round(0.184 + k / 12 + (0.02 if k % 3 == 0 else 0.0), 3) for k in range(1, 60)
    ]
    root = coded_project(tmp_path / "root", times, clip_sec=1.0)
    out = tmp_path / "ds"
    prepare_dataset(
        root,
        out,
        opts(clip_sec=1.0, stride_sec=0.13, windows="video", val_fraction=0, fps=fps, workers=1),
    )
    entries = sorted(read_manifest(out), key=lambda e: e.start)
    assert entries[0].start == 0.0 and entries[1].start == pytest.approx(0.13)
    rate = entries[0].fps
    assert rate == (fps or 12)  # VFR: the average rate, rounded
    for entry in entries[:8]:
        codes, _ = clip_codes(out / entry.clip)
        expected = [on_screen(times, entry.start + k / rate) for k in range(entry.num_frames)]
        assert codes == expected, entry.clip
    first, second = (clip_codes(out / e.clip)[0] for e in entries[:2])
    assert first != second  # 0.00 s and 0.13 s differ, though both start on frame 0
    assert first[0] == second[0] == 0


def test_clips_of_an_exact_30_fps_file_never_repeat_a_frame(tmp_path: Path) -> None:
    from .test_media_probe import _short_last_sample

    times = [k / 30 for k in range(150)]
    root = coded_project(tmp_path / "root", times, clip_sec=2.0)
    video = root / "s" / "video" / "v.mp4"
    tmp = video.with_name("tmp.mp4")
    video.rename(tmp)
    _short_last_sample(tmp, video)  # the header's average rate now reads 30.37
    tmp.unlink()
    out = tmp_path / "ds"
    prepare_dataset(root, out, opts(clip_sec=2.0, val_fraction=0, workers=1))
    for entry in read_manifest(out):
        assert entry.fps_exact == "30" and entry.num_frames == 60
        codes, _ = clip_codes(out / entry.clip)
        assert codes == list(range(codes[0], codes[0] + 60))


def test_the_review_page_follows_the_dataset(demo_root: Path, tmp_path: Path) -> None:
    from ethoclip.dataset import write_review

    out = tmp_path / "ds"
    prepare_dataset(demo_root, out, opts(workers=2))
    write_review(out)
    old = {e.clip for e in read_manifest(out)}
    prepare_dataset(demo_root, out, opts(workers=2, clip_sec=3.0))
    page = (out / "review.html").read_text()
    new = {e.clip for e in read_manifest(out)}
    assert new - old and all(clip in page for clip in new)
    assert not [clip for clip in old - new if clip in page]  # no clip that is gone
