"""Fuzzing the learning half: mutated configs and ``--cfg-options``, and damaged, foreign or
hand-edited checkpoints, through the command line entry (in-process).

Every case either works or ends in one ``error: …`` line with exit 2: never a traceback, never
a partial write. A few hundred cases run by default; ``ETHOCLIP_FUZZ_EXAMPLES=2000 pytest
tests/test_fuzz_learning.py`` runs more.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethoclip.cli import main
from ethoclip.cli.config import load_checked
from ethoclip.config import Config
from ethoclip.errors import EthoclipError

from .learning_fixtures import fabricate_checkpoint, tiny_config
from .test_preflight import TINY, fake_dataset

EXAMPLES = int(os.environ.get("ETHOCLIP_FUZZ_EXAMPLES", "0")) or None


def fuzz(default: int) -> Any:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=EXAMPLES is None,  # the default run is the same every time
    )


def run(argv: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the command line, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def assert_works_or_one_line(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, err
        assert err.splitlines()[-1].startswith("error: "), err


# -- configs ---------------------------------------------------------------------------------
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=6),
    st.lists(st.integers(-2, 9), max_size=3),
    st.dictionaries(st.sampled_from(["type", "a", "lr"]), st.integers(0, 3), max_size=2),
    st.sampled_from(["AdamW", "SampleFrames", "TinyVideoNet", "I3DHead", "NoSuchType"]),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word + "x"
    i = rng.randrange(len(word) - 1)
    return rng.choice(
        [word[:i] + word[i + 1 :], word[:i] + word[i + 1] + word[i] + word[i + 2 :], word + "s"]
    )


@st.composite
def config_mutations(draw: st.DrawFn, base: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    data = copy.deepcopy(base)
    rng = random.Random(draw(st.integers(0, 2**31)))
    paths = _paths(data)
    for _ in range(draw(st.integers(0, 3))):
        path = rng.choice(paths)
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            kind = draw(st.sampled_from(["delete", "rename", "value"]))
            if kind == "delete":
                del parent[path[-1]]
            elif kind == "rename" and isinstance(parent, dict):
                parent[_typo(str(path[-1]), rng)] = parent.pop(path[-1])
            else:
                parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    options = []
    flat = [".".join(map(str, p)) for p in paths]
    for _ in range(draw(st.integers(0, 3))):
        key = draw(
            st.one_of(
                st.sampled_from(flat),
                st.sampled_from(flat).map(lambda k: _typo(k, rng)),
                st.text(alphabet="ab._0", min_size=0, max_size=6),
            )
        )
        value = draw(
            st.one_of(
                st.text(alphabet="[](),0123456789.'\"aNoeTru-", max_size=8),
                VALUES.map(repr),
            )
        )
        options.append(f"{key}={value}" if draw(st.booleans()) or not key else key)
    return data, options


@pytest.fixture(scope="module")
def config_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("fuzz_cfg")
    data = fake_dataset(folder / "ds")
    path = folder / "base.py"
    path.write_text(TINY.format(data=str(data)))
    return folder, Config.fromfile(path).to_dict()


@fuzz(150)
@given(data=st.data())
def test_fuzzed_configs_and_options_work_or_fail_in_one_line(
    config_base: tuple[Path, dict[str, Any]], data: st.DataObject, tmp_path: Path
) -> None:
    _, base = config_base
    mutated, options = data.draw(config_mutations(base))
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example (tmp_path is shared)
    path = tmp_path / "c.py"
    try:
        Config(mutated).dump(path)
    except EthoclipError:
        return  # the mutation made a config that cannot be written (e.g. a non-text key)
    argv = ["config", "show", str(path), *(["--cfg-options", *options] if options else [])]
    code, _, err = run(argv)
    assert_works_or_one_line(code, err)
    # What `train` runs first, before any heavy import: the same verdict, in the same words.
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            load_checked(str(path), options, splits=("train", "val"))
        checked = 0
    except EthoclipError:
        checked = 2
    if code == 0:
        assert checked == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.py"]  # nothing else written


# -- checkpoints -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint_base(
    demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("fuzz_ckpt")
    model = fabricate_checkpoint(tiny_config(demo_dataset, folder), folder / "m.ckpt")
    lines = (demo_dataset / "val.txt").read_text().splitlines()[:2]
    listing = folder / "two.txt"
    listing.write_text("".join(f"{demo_dataset / line}\n" for line in lines))
    (folder / "label_map.txt").write_text((demo_dataset / "label_map.txt").read_text())
    video = demo_dataset / lines[0].split()[0]
    return model, listing, video


META_FIELDS = [
    ("classes",),
    ("thresholds",),
    ("multi_label",),
    ("model",),
    ("model", "backbone"),
    ("model", "cls_head"),
    ("model", "backbone", "widths"),
    ("model", "cls_head", "num_classes"),
    ("preprocessing",),
    ("preprocessing", "test_pipeline"),
    ("preprocessing", "test_pipeline", 1, "clip_len"),
    ("preprocessing", "clip_frames"),
    ("preprocessing", "clip_sec"),
    ("preprocessing", "fps"),
    ("preprocessing", "clip_size"),
    ("preprocessing", "mean"),
    ("config",),
    ("config", "val_dataloader"),
    ("format",),
]


@st.composite
def damaged_checkpoints(draw: st.DrawFn, raw: bytes, data: dict[str, Any]) -> bytes | dict:
    kind = draw(st.sampled_from(["truncate", "flip", "meta", "state", "foreign"]))
    if kind == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "flip":
        damaged = bytearray(raw)
        for _ in range(draw(st.integers(1, 8))):
            damaged[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
        return bytes(damaged)
    edited = copy.deepcopy(data)
    if kind == "meta":
        for _ in range(draw(st.integers(1, 2))):
            path = draw(st.sampled_from(META_FIELDS))
            node: Any = edited["ethoclip"]
            try:
                for part in path[:-1]:
                    node = node[part]
                if draw(st.booleans()):
                    del node[path[-1]]
                else:
                    node[path[-1]] = draw(VALUES)
            except (KeyError, IndexError, TypeError):
                pass
        if draw(st.booleans()):  # names reordered, renamed or repeated
            classes = list(data["ethoclip"]["classes"])
            edited["ethoclip"]["classes"] = draw(
                st.sampled_from([classes[::-1], ["x", *classes[1:]], classes[:1] * len(classes)])
            )
        return edited
    if kind == "state":
        state = edited["state_dict"]
        key = draw(st.sampled_from(sorted(state)))
        action = draw(st.sampled_from(["drop", "reshape", "rename", "dtype", "not_a_dict"]))
        if action == "drop":
            del state[key]
        elif action == "reshape":
            state[key] = torch.zeros(3, 1)
        elif action == "rename":
            state[key + "_x"] = state.pop(key)
        elif action == "dtype":
            state[key] = state[key].to(torch.int64)
        else:
            edited["state_dict"] = [1, 2]
        return edited
    return draw(
        st.sampled_from(
            [
                {"state_dict": {"backbone.conv.weight": torch.zeros(2)}, "meta": {}},  # MMAction2
                {"weights": torch.zeros(2)},
                {"ethoclip": {"format": 1}, "state_dict": {}},
                b"",
                b"{}",
                b"PK\x03\x04 not really a zip",
            ]
        )
    )


@pytest.mark.slow
@fuzz(80)
@given(data=st.data())
def test_fuzzed_checkpoints_fail_in_one_line_for_test_and_predict(
    checkpoint_base: tuple[Path, Path, Path], data: st.DataObject, tmp_path: Path
) -> None:
    model, listing, video = checkpoint_base
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example (tmp_path is shared)
    raw = model.read_bytes()
    loaded = torch.load(model, weights_only=True)
    damaged = data.draw(damaged_checkpoints(raw, loaded))
    path = tmp_path / "d.ckpt"
    if isinstance(damaged, bytes):
        path.write_bytes(damaged)
    else:
        torch.save(damaged, path)
    out = tmp_path / "eval"
    code, _, err = run(
        ["test", str(path), "--data", str(listing), "--out", str(out), "--device", "cpu",
         "--batch-size", "2"]
    )  # fmt: skip
    assert_works_or_one_line(code, err)
    if code == 2:
        assert not out.exists()  # no partial metrics.json, no plots
    else:
        assert json.loads((out / "metrics.json").read_text())["clips"] == 2
    predictions = tmp_path / "pred"
    code, _, err = run(
        ["predict", str(path), str(video), "--out", str(predictions), "--device", "cpu"]
    )
    assert_works_or_one_line(code, err)
    assert not list(tmp_path.rglob("*.tmp"))
    if code == 2:
        assert not predictions.exists() or not any(predictions.rglob("*.csv"))
