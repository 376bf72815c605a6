"""Stand-ins for modules that a library imports at its top and tripkb never uses.

Every lookup is a new process, so imports are most of its time: Whoosh imports
urllib.request and asyncio, typer's help formatter rich's Markdown and Traceback
(and with them markdown-it and pygments), none of which tripkb needs. While such a
library module is first imported, a stand-in takes the unused module's place in
``sys.modules``; it is taken out again at once, so that anything importing the
module later gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

#: library module → the stand-ins in place while it is first imported.
_STAND_INS: dict[str, dict[str, types.ModuleType]] = {}


def module(name: str, **attributes) -> types.ModuleType:
    """A stand-in for the module ``name`` holding only ``attributes``."""
    stand_in = types.ModuleType(name)
    stand_in.__dict__.update(attributes)
    return stand_in


class _Deferred(type):
    """The class of a stand-in class: calling it or reading its attributes imports the real one."""

    def _real(cls) -> type:
        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)


def deferred(module_name: str, class_name: str) -> type:
    """A stand-in for the class ``class_name`` of ``module_name``, imported when first used."""
    return _Deferred(class_name, (), {"_module": module_name})


def stand_in_while_importing(library_module: str, *stand_ins: types.ModuleType) -> None:
    """Have ``stand_ins`` take their modules' places while ``library_module`` is first imported."""
    _STAND_INS.setdefault(library_module, {}).update({m.__name__: m for m in stand_ins})
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, stand_ins: dict[str, types.ModuleType]):
        self.loader, self.stand_ins = loader, stand_ins

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        placed = [name for name in self.stand_ins if name not in sys.modules]
        sys.modules.update({name: self.stand_ins[name] for name in placed})
        try:
            self.loader.exec_module(module)
        finally:
            for name in placed:
                if sys.modules.get(name) is self.stand_ins[name]:
                    del sys.modules[name]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _STAND_INS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, _STAND_INS[fullname])
        return spec
