#!/usr/bin/env bash
# Builds MMAction2 1.2.0 (the test oracle) in a throwaway venv outside the repository.
# Never a dependency of ethoclip: only the differential tests (tests/test_mma_*.py) run it,
# and they skip with a reason when this venv is absent.
#
#   bash tests/oracle/build_mmaction2.sh          # -> $ETHOCLIP_ORACLE_DIR/mmaction2-1.2.0/venv
#
# Facts it works around on a CPU-only machine (from ../shared/anchors/mmaction2/README.md):
#  1. the 1.2.0 wheel lacks mmaction/models/localizers/drn/, which localizers/__init__.py imports;
#  2. mmengine imports pkg_resources (setuptools < 82 still ships it);
#  3. mmaction imports importlib_metadata without declaring it;
#  4. checkpoints need TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 to load (set by the test harness).
set -euo pipefail
ROOT=${ETHOCLIP_ORACLE_DIR:-$HOME/.cache/ethoclip/oracle}
DIR=$ROOT/mmaction2-1.2.0
V=$DIR/venv
MMPRETRAIN=mmpretrain==1.2.0  # MMAction2's MobileOneTSM subclasses its MobileOne
if [ -f "$DIR/ready" ] && "$V/bin/python" -c 'import mmaction' 2>/dev/null; then
  # A venv built before mmpretrain was added gets it in place (nothing else changes).
  "$V/bin/python" -c 'import mmpretrain' 2>/dev/null || "$V/bin/pip" install -q "$MMPRETRAIN"
  echo "oracle: ready at $V"; exit 0
fi
rm -rf "$V" "$DIR/ready"
mkdir -p "$DIR"
python3 -m venv "$V"
"$V/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
"$V/bin/pip" install -q mmengine==0.10.7 mmcv-lite==2.1.0 importlib_metadata 'setuptools<82'
"$V/bin/pip" install -q av mmaction2==1.2.0 timm einops
"$V/bin/pip" install -q "$MMPRETRAIN"
SP=$("$V/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
DRN=$SP/mmaction/models/localizers/drn
if [ ! -d "$DRN" ]; then
  mkdir -p "$DRN"
  echo '# stub: missing from the mmaction2 1.2.0 wheel' > "$DRN/__init__.py"
  cat > "$DRN/drn.py" <<'PY'
# stub: missing from the mmaction2 1.2.0 wheel (the DRN localizer cannot be used)
from mmengine.model import BaseModel

from mmaction.registry import MODELS


@MODELS.register_module()
class DRN(BaseModel):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('DRN is missing from the mmaction2 1.2.0 wheel')
PY
fi
"$V/bin/python" -c 'import mmaction.models, mmaction, mmpretrain; print("oracle: mmaction", mmaction.__version__)'
touch "$DIR/ready"
echo "oracle: ready at $V"
