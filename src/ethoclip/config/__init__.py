"""Config files with MMEngine's semantics and MMAction2's vocabulary, without MMEngine.

``Config.fromfile(path)`` reads Python, YAML or JSON configs with ``_base_`` inheritance,
``_delete_``, ``--cfg-options``, and remembers the file and line that set every value. No torch
here: reading a config is fast and runs anywhere.
"""

from ._check import IGNORED, USED, check_config
from ._config import Config, format_python
from ._dict import ConfigDict, to_config, to_plain
from ._load import PACKAGE_PREFIX, Origin, resolve_path, shipped_configs, where
from ._options import parse_cfg_options, parse_value

__all__ = [
    "IGNORED",
    "PACKAGE_PREFIX",
    "USED",
    "Config",
    "ConfigDict",
    "Origin",
    "check_config",
    "format_python",
    "parse_cfg_options",
    "parse_value",
    "resolve_path",
    "shipped_configs",
    "to_config",
    "to_plain",
    "where",
]
