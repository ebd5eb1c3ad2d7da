"""inception_lab: the library behind the Inception Lab book (GoogLeNet, BN-Inception, Inception-v3).

Submodules are imported explicitly (``from inception_lab import cost, layers``). Importing the package itself
imports no torch, so the pure-Python cost model works without it; ``inception_lab.build_model`` and
``inception_lab.PRESETS`` load the model registry on first use.
"""

from typing import Any

__version__ = "0.3.0"


def __getattr__(name: str) -> Any:
    if name in ("build_model", "PRESETS"):
        from inception_lab import models

        return getattr(models, name)
    raise AttributeError(f"module 'inception_lab' has no attribute {name!r}")
