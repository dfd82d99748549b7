"""Shared by the exporters' parity cases (export/*/parity_case.py): running upstream modules on Debian's Python,
which lacks some of the packages they import but never call on the path a parity case tests."""
from __future__ import annotations

import sys
import types

STOOD_IN: list[str] = []


def stand_in(module: str, **attrs) -> bool:
    """Registers `module` (and its parents) holding `attrs` unless the real one imports; returns whether it stood
    in (and records it in STOOD_IN, for the manifest)."""
    try:
        __import__(module)
        return False
    except ImportError:
        pass
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            if i > 1:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[name])
    for k, v in attrs.items():
        setattr(sys.modules[module], k, v)
    STOOD_IN.append(module)
    return True


def placeholders(*names: str) -> dict:
    """Empty classes under `names`: for names imported at module level and never used."""
    return {n: type(n, (), {}) for n in names}
