"""Modules loaded on first use, for what a start does not need: the flows and dialogs
behind keys not pressed yet cost nothing until one is.

`lazy_module(name)` returns the module object at once and runs its code when one of
its attributes is first read. Meant for modules used as `module.function(...)`; a
`from module import name` loads it at once, as usual. Type checkers should see the
ordinary import (`if TYPE_CHECKING:`), so that the uses stay checked.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module `name`, its code run at the first attribute read (at once if it is
    already loaded). A module that does not exist fails here, not at its first use."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
