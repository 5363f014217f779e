"""``custom_hooks=[dict(type='EMAHook', …)]``: the averaged weights against MMEngine's own
``EMAHook`` (the oracle venv) on one fixed sequence of model states, and the settings'
refusals. Resuming and validating with the average: ``test_engine_train.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch

from ethoclip.engine._averaging import ModelAveraging
from ethoclip.engine._hooks import EMAHook
from ethoclip.errors import ConfigError

PER_EPOCH, EPOCHS = 4, 3
CASES: dict[str, dict[str, Any]] = {
    "ema": {"momentum": 0.3},
    "ema_interval_buffers_late": {
        "momentum": 0.3,
        "interval": 3,
        "update_buffers": True,
        "begin_iter": 4,
    },
    "annealing": {"ema_type": "MomentumAnnealingEMA", "momentum": 0.05, "gamma": 4, "interval": 2},
    "swa_from_epoch_2": {"ema_type": "StochasticWeightAverage", "begin_epoch": 2},
}


def net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))


def states() -> list[dict[str, torch.Tensor]]:
    """What training made of the model in each of the 12 iterations: random weights and
    BatchNorm statistics, its counter counting."""
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(PER_EPOCH * EPOCHS):
        state = {k: torch.randn(v.shape, generator=g) for k, v in net().state_dict().items()}
        state["1.running_var"] = state["1.running_var"].abs() + 0.1
        state["1.num_batches_tracked"] = torch.tensor(i + 1)
        out.append(state)
    return out


class Replay(pl.LightningModule):
    """Each training step sets the weights to the next of ``states`` (an optimizer at lr 0
    changes nothing after it): the averaging sees exactly the oracle's sequence."""

    def __init__(self, sequence: list[dict[str, torch.Tensor]]) -> None:
        super().__init__()
        self.net, self.sequence, self.done = net(), sequence, 0
        self.net.load_state_dict(sequence[0])

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        with torch.no_grad():
            self.net.load_state_dict(self.sequence[self.done])
        self.done += 1
        return sum((p * 0.0).sum() for p in self.net.parameters())  # type: ignore[return-value]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


def averaged(cfg: dict[str, Any], accumulate: int = 1) -> dict[str, torch.Tensor]:
    sequence = states()
    module = Replay(sequence)
    trainer = pl.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        callbacks=[ModelAveraging(EMAHook(**cfg))],
        accumulate_grad_batches=accumulate,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    loader = torch.utils.data.DataLoader(torch.zeros(PER_EPOCH, 1), batch_size=1)
    trainer.fit(module, loader)
    assert module.done == len(sequence)
    # Training has ended: Lightning's callback has left the average in the model.
    return module.net.state_dict()


@pytest.fixture(scope="module")
def oracle(mmaction2_oracle: Any) -> dict[str, Any]:
    params = {
        "states": [{k: v.tolist() for k, v in s.items()} for s in states()],
        "per_epoch": PER_EPOCH,
        "cases": CASES,
    }
    return json.loads((Path(mmaction2_oracle("ema_hook", params)) / "averaged.json").read_text())


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_average_is_mmengines_emahooks(case: str, oracle: dict[str, Any]) -> None:
    got = averaged(CASES[case])
    want = oracle[case]
    assert set(got) == set(want)
    for key, value in got.items():
        expected = torch.tensor(want[key], dtype=value.dtype)
        assert torch.allclose(value, expected, rtol=1e-5, atol=1e-6), (case, key)
    # Not the last state, nor the first: the cases do average.
    last = states()[-1]
    assert not torch.allclose(got["0.weight"], last["0.weight"])


def test_the_average_moves_after_every_iteration_with_gradient_accumulation_too(
    oracle: dict[str, Any],
) -> None:
    """MMEngine updates the average after each iteration (runner.iter), not each optimizer
    step: accumulating two batches a step changes nothing."""
    got = averaged(CASES["ema"], accumulate=2)
    for key, value in got.items():
        assert torch.allclose(value, torch.tensor(oracle["ema"][key], dtype=value.dtype)), key


def test_a_plain_ema_by_hand() -> None:
    """Three states of one weight, 0 → 1 → 2, momentum ½: 0, then 0 + ½·(1 − 0) = ½, then
    ½ + ½·(2 − ½) = 1¼ (MMEngine's Xema ← (1 − m)·Xema + m·X)."""

    class Line(Replay):
        def __init__(self) -> None:
            pl.LightningModule.__init__(self)
            self.net = torch.nn.Linear(1, 1, bias=False)
            self.sequence = [{"weight": torch.tensor([[float(i)]])} for i in range(3)]
            self.done = 0

    module = Line()
    trainer = pl.Trainer(
        max_epochs=1,
        accelerator="cpu",
        callbacks=[ModelAveraging(EMAHook(momentum=0.5))],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, torch.utils.data.DataLoader(torch.zeros(3, 1), batch_size=1))
    assert module.net.weight.item() == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        ({"momentum": 0.0}, "momentum"),
        ({"momentum": 1.0}, "momentum"),
        ({"ema_type": "Polyak"}, "ema_type"),
        ({"interval": 0}, "interval"),
        ({"begin_iter": 5, "begin_epoch": 2}, "begin_iter"),
        ({"begin_epoch": -1}, "begin_epoch"),
        ({"gamma": 0}, "gamma"),
    ],
)
def test_bad_settings_are_refused_by_name(cfg: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        EMAHook(**cfg)
