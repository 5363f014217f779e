"""MMEngine's ``EMAHook`` (the hook MMAction2's runner runs for ``custom_hooks=[dict(type=
'EMAHook', ...)]``) driven through a fixed sequence of model states, as the runner calls it
after each training iteration: the averaged weights each case ends with."""

from __future__ import annotations

import json
from types import SimpleNamespace

import torch
from _mma import args, done


def model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))


def main() -> None:
    out, params = args()
    import mmengine.model  # noqa: F401  (registers the averaged models)
    from mmengine.hooks import EMAHook

    states = [{k: torch.tensor(v) for k, v in state.items()} for state in params["states"]]
    per_epoch = params["per_epoch"]
    results = {}
    for name, cfg in params["cases"].items():
        net = model()
        net.load_state_dict(states[0])
        hook = EMAHook(**cfg)
        runner = SimpleNamespace(
            model=net,
            iter=0,
            epoch=0,
            max_iters=len(states),
            max_epochs=len(states) // per_epoch,
        )
        hook.before_run(runner)
        hook.before_train(runner)
        for i, state in enumerate(states):
            net.load_state_dict(state)  # what training made of the model in iteration i
            runner.iter, runner.epoch = i, i // per_epoch
            hook.after_train_iter(runner, i % per_epoch)
        results[name] = {k: v.tolist() for k, v in hook.ema_model.module.state_dict().items()}
    (out / "averaged.json").write_text(json.dumps(results))
    done(out)


if __name__ == "__main__":
    main()
