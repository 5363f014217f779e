"""Config resolution and command start-up, measured in one run.

1. Resolving TimeSformer configs with their ``_base_`` chains (the shipped one, and MMAction2
   1.2.0's ``timesformer_divST`` from its wheel when it can be fetched): milliseconds, and the
   ratio to merely compiling and running the same files as plain Python (the floor any config
   reader pays). Target (issue 8): under 50 ms.
2. Start-up of ``ethoclip --help`` and of ``probe`` against ``python -c pass`` and against
   ``import torch``: the data commands never import torch.

    python benchmarks/bench_config.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from ethoclip.config import Config, resolve_path

from _common import Unavailable, best_of, fetch_package


def exec_files(paths: list[Path]) -> None:
    for path in paths:
        exec(compile(path.read_text(), str(path), "exec"), {"__file__": str(path)})


def command_seconds(args: list[str], repeat: int = 5) -> float:
    return best_of(repeat, lambda: subprocess.run(args, capture_output=True, check=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    configs = {
        "ethoclip::_base_/models/timesformer_base.py": resolve_path(
            "ethoclip::_base_/models/timesformer_base.py"
        )
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wheel = fetch_package("mmaction2==1.2.0")
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(tmp, [m for m in archive.namelist() if "/.mim/configs/" in m])
            divst = next(Path(tmp).rglob("timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py"))
            configs["MMAction2 timesformer_divST (3 files)"] = divst
        except Unavailable as exc:
            print(f"(MMAction2 wheel unavailable: {exc}; only the shipped config is timed)")
        print("config resolution (best of 20)")
        for name, path in configs.items():
            files = Config.fromfile(path).files
            resolve = best_of(20, lambda p=path: Config.fromfile(p))
            floor = best_of(20, lambda f=files: exec_files(f))
            verdict = "ok" if resolve < 0.050 else "OVER the 50 ms target"
            print(
                f"  {name}: {resolve * 1000:.1f} ms ({len(files)} file(s)); plain exec "
                f"{floor * 1000:.2f} ms; ratio {resolve / floor:.1f}x; target < 50 ms: {verdict}"
            )
    python = sys.executable
    baseline = command_seconds([python, "-c", "pass"])
    torch_import = command_seconds([python, "-c", "import torch"], repeat=3)
    help_time = command_seconds([python, "-m", "ethoclip", "--help"])
    leaked = subprocess.run(
        [python, "-c", "import sys; from ethoclip.cli import main; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print("start-up (best of 5)")
    print(f"  python -c pass: {baseline * 1000:.0f} ms")
    print(
        f"  ethoclip --help: {help_time * 1000:.0f} ms ({help_time / baseline:.1f}x python alone)"
    )
    print(
        f"  import torch: {torch_import * 1000:.0f} ms "
        f"({torch_import / help_time:.1f}x ethoclip --help)"
    )
    print(f"  torch imported by the command line: {leaked}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.1f} s")
