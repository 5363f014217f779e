"""Class names are compared wherever a model meets data or labels (``test --data``, ``predict
--label-file``, ``load_from``), and ``test`` names the split and list it evaluated and marks
F1 at thresholds tuned on the same clips as in-sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ethoclip.cli import main
from ethoclip.config import Config
from ethoclip.dataset import read_label_map
from ethoclip.engine._evaluate import evaluate
from ethoclip.engine._experiment import build_experiment, read_settings
from ethoclip.errors import CheckpointError, DatasetError
from ethoclip.inference import load_model

from .learning_fixtures import fabricate_checkpoint, tiny_config


@pytest.fixture(scope="module")
def model(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("classes")
    return fabricate_checkpoint(tiny_config(demo_dataset, folder), folder / "m.ckpt")


def relabel(src: Path, dst: Path, names: list[str]) -> Path:
    """A copy of a prepare folder (clips linked) whose label map is ``names``: the same clips,
    each label written as its position in ``names`` (a name not in the source is renamed from
    the source's name at that position)."""
    old = read_label_map(src / "label_map.txt")
    rename = {o: n for o, n in zip(old, names, strict=True) if o not in names}
    dst.mkdir()
    (dst / "clips").symlink_to(src / "clips")
    (dst / "label_map.txt").write_text("".join(f"{n}\n" for n in names))

    def new_id(i: int) -> int:
        return names.index(rename.get(old[i], old[i]))

    lines = []
    for line in (src / "manifest.jsonl").read_text().splitlines():
        record = json.loads(line)
        record["label_ids"] = [new_id(i) for i in record["label_ids"]]
        record["labels"] = [names[i] for i in record["label_ids"]]
        lines.append(json.dumps(record))
    (dst / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    for split in ("train", "val", "test"):
        if (src / f"{split}.txt").is_file():
            out = []
            for line in (src / f"{split}.txt").read_text().splitlines():
                path, *ids = line.split()
                out.append(" ".join([path, *(str(new_id(int(i))) for i in ids)]))
            (dst / f"{split}.txt").write_text("\n".join(out) + "\n")
    return dst


def test_the_same_labels_in_another_order_are_matched_by_name(
    model: Path, demo_dataset: Path, tmp_path: Path
) -> None:
    straight = evaluate(model, data=str(demo_dataset), split="val", workers=0)
    names = read_label_map(demo_dataset / "label_map.txt")
    turned = relabel(demo_dataset, tmp_path / "reversed", names[::-1])
    result = evaluate(model, data=str(turned), split="val", workers=0)
    assert result["class_order_remapped"] is True
    assert "in another order" in result["notes"][0] and "matched by name" in result["notes"][0]
    for name, row in straight["per_class"].items():  # each class's figures under its own name
        assert result["per_class"][name]["support"] == row["support"]
        assert result["per_class"][name]["ap"] == pytest.approx(row["ap"], nan_ok=True)
    assert result["mAP"] == pytest.approx(straight["mAP"])


def test_other_labels_are_refused_with_both_lists(
    model: Path, demo_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = read_label_map(demo_dataset / "label_map.txt")
    other = relabel(demo_dataset, tmp_path / "other", ["hop", *names[1:]])
    with pytest.raises(DatasetError) as info:
        evaluate(model, data=str(other), split="val", workers=0)
    message = str(info.value)
    assert "only the model has jump; only the data has hop" in message
    assert f"The model ({model}) has 6: {', '.join(names)}" in message
    assert main(["test", str(model), "--data", str(other), "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "e").exists()


def test_predict_label_file_is_compared_with_the_checkpoint(model: Path, tmp_path: Path) -> None:
    classes = torch.load(model, weights_only=True)["ethoclip"]["classes"]
    turned = tmp_path / "turned.txt"
    turned.write_text("\n".join(classes[::-1]) + "\n")
    loaded = load_model(str(model), label_file=str(turned), device="cpu")
    assert loaded.classes == classes  # the checkpoint's order: its scores are in that order
    assert any("in another order" in note for note in loaded.notes)
    other = tmp_path / "other.txt"
    other.write_text("\n".join(["hop", *classes[1:]]) + "\n")
    with pytest.raises(DatasetError, match="only the model has jump; only the data has hop"):
        load_model(str(model), label_file=str(other), device="cpu")


def test_load_from_reorders_the_head_by_name_and_refuses_other_names(
    model: Path, demo_dataset: Path, tmp_path: Path
) -> None:
    names = read_label_map(demo_dataset / "label_map.txt")
    turned = relabel(demo_dataset, tmp_path / "reversed", names[::-1])
    cfg = Config.fromfile(
        tiny_config(turned, tmp_path), [f"load_from={model}", "val_dataloader=None"]
    )
    experiment = build_experiment(cfg, read_settings(cfg))
    assert any("head reordered" in note for note in experiment.notes)
    saved = torch.load(model, weights_only=True)["state_dict"]["model.cls_head.fc_cls.weight"]
    loaded = experiment.model.cls_head.fc_cls.weight.detach()
    assert torch.equal(loaded, saved.flip(0))  # row j is the class the new data calls j
    other = relabel(demo_dataset, tmp_path / "other", ["hop", *names[1:]])
    cfg = Config.fromfile(
        tiny_config(other, tmp_path), [f"load_from={model}", "val_dataloader=None"]
    )
    with pytest.raises(
        CheckpointError, match=r"trained on 6 classes \(jump, .*\), the data has 6 \(hop"
    ):
        build_experiment(cfg, read_settings(cfg))


def test_test_names_the_split_and_marks_in_sample_f1(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_dataset: Path
) -> None:
    out = tmp_path / "eval"
    assert main(["test", str(model), "--split", "val", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    val = str(demo_dataset / "val.txt")
    assert f"evaluated split 'val': 17 clips of {val}" in printed
    assert "they are in-sample, so optimistic" in printed and "F1*" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["split"], metrics["list"], metrics["in_sample"]) == ("val", val, True)
    assert metrics["thresholds_tuned_on"] == val
    # The training split: not where the thresholds came from, named as such.
    assert main(["test", str(model), "--split", "train"]) == 0
    printed = capsys.readouterr().out
    assert "evaluated split 'train':" in printed and "in-sample" not in printed
    # --split test on data without a test split: refused, not the val clips under another name.
    assert main(["test", str(model), "--split", "test"]) == 2
    err = capsys.readouterr().err
    assert "reads 'test' clips from the 'val' list, and there is no test.txt beside it" in err
