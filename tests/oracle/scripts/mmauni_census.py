"""Every UniFormerV2, UniFormer and X3D config of the wheel, built by MMAction2 at full size:
its state-dict keys and shapes, for tests/test_mma_uni.py.

Built on the meta device (no memory, no init; MMAction2 initialises in ``init_weights``, which
is not called). MMAction2's stochastic-depth rules call ``torch.linspace(...).item()``, which
the meta device cannot answer, so linspace is pinned to the CPU here; its values are the same.
"""

from __future__ import annotations

import functools

import torch
from _mma import args, configs_dir, done, load_config, save


def main() -> None:
    out, _ = args()
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    torch.linspace = functools.partial(torch.linspace, device="cpu")  # see the module doc
    shapes = {}
    for family in ("uniformerv2", "uniformer", "x3d"):
        for path in sorted((configs_dir() / "recognition" / family).glob("*.py")):
            cfg = load_config(f"recognition/{family}/{path.name}")
            with torch.device("meta"):
                model = MODELS.build(cfg.model)
            shapes[path.name] = {k: list(v.shape) for k, v in model.state_dict().items()}
    save(out, "shapes", shapes)
    done(out)


if __name__ == "__main__":
    main()
