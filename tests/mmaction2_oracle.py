"""MMAction2 1.2.0 as the test oracle: its own code, run in a throwaway venv.

The venv is built by ``tests/oracle/build_mmaction2.sh`` outside the repository
(``$ETHOCLIP_ORACLE_DIR``, default ``~/.cache/ethoclip/oracle``). It is never a dependency of
ethoclip; tests that need it skip with the reason when it is absent.

An oracle script (``tests/oracle/scripts/<name>.py``) runs inside that venv, writes what
MMAction2 computed (checkpoints saved by MMAction2 itself, inputs, outputs, gradients) into a
folder, and the ethoclip side of the test compares. Results are cached by the hash of the
script (and the shared helper), so the suite pays MMAction2's import time once per change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "oracle" / "scripts"
BUILD_SCRIPT = Path(__file__).parent / "oracle" / "build_mmaction2.sh"
# A hang guard only: MMAction2 builds and runs a few small models per script on 2 cores.
_HANG_GUARD_S = 3600


class Unavailable(RuntimeError):
    """The MMAction2 oracle venv is not built here; tests skip on it."""


def oracle_root() -> Path:
    return Path(os.environ.get("ETHOCLIP_ORACLE_DIR") or Path.home() / ".cache/ethoclip/oracle")


def oracle_python() -> Path:
    """The oracle venv's interpreter, or :class:`Unavailable` saying how to build it."""
    home = oracle_root() / "mmaction2-1.2.0"
    python = home / "venv" / "bin" / "python"
    if not (home / "ready").exists() or not python.exists():
        raise Unavailable(
            f"MMAction2 1.2.0 oracle venv not built at {home}; run bash {BUILD_SCRIPT} "
            "(needs the package registry, ~6 GB)"
        )
    return python


def _digest(script: Path, params: dict | None) -> str:
    h = hashlib.sha256()
    for path in [*sorted(SCRIPTS.glob("_*.py")), script]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(json.dumps(params or {}, sort_keys=True).encode())
    return h.hexdigest()[:16]


def oracle_artifacts(name: str, params: dict | None = None) -> Path:
    """Run ``tests/oracle/scripts/<name>.py`` in the oracle venv once; its output folder.

    The script gets ``--out DIR`` (and ``--params JSON``) and must write ``DIR/done`` last.
    """
    python = oracle_python()
    script = SCRIPTS / f"{name}.py"
    out = oracle_root() / "artifacts" / f"{name}-{_digest(script, params)}"
    if (out / "done").exists():
        return out
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = {
        **os.environ,
        "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1",  # MMEngine checkpoints hold pickled objects
        "PYTHONPATH": str(SCRIPTS),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }
    env.pop("PYTHONHOME", None)
    args = [str(python), str(script), "--out", str(tmp)]
    if params is not None:
        args += ["--params", json.dumps(params)]
    proc = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=_HANG_GUARD_S, check=False
    )
    if proc.returncode != 0 or not (tmp / "done").exists():
        raise RuntimeError(
            f"oracle script {script.name} failed (rc {proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


@pytest.fixture(scope="session")
def mmaction2_oracle() -> object:
    """``oracle_artifacts`` for tests, skipping with the reason when the venv is absent."""
    try:
        oracle_python()
    except Unavailable as exc:
        pytest.skip(str(exc))
    return oracle_artifacts
