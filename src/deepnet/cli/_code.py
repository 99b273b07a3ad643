"""Configs that name code: the ``[model] factory`` reference (``"module:function"`` or
``"path/to/file.py:function"``), and the one place where the command imports user code.

A config file is data, like a model file: the command imports and runs the function a config
names only when the user opts in with ``--allow-code`` (``allow_code=True`` in Python), as
Keras' ``safe_mode`` does for lambdas in model files. Without the opt-in the reference is
checked for its form only. With it, a ``file.py`` factory is loaded from that file by path
(never by adding folders to ``sys.path``) and a ``module`` factory is imported from the Python
path as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from dataclasses import dataclass

from ._catalogue import suggest
from ._errors import UsageFailure, one_line

__all__ = ["FactoryReference", "load_function", "parse_reference", "refusal"]

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")
ALLOW_CODE_HINT = "add --allow-code to the command if you trust this config (Python: allow_code=True)"


@dataclass(frozen=True)
class FactoryReference:
    """A parsed factory reference: a module name or a ``.py`` file, and a function name."""

    text: str
    target: str
    function: str
    is_file: bool

    def describe(self, base_dir: str) -> str:
        """What running the reference would do, in words."""
        if self.is_file:
            return f"run the Python file {resolve(self.target, base_dir)} and call its function {self.function!r}"
        return f"import the Python module {self.target!r} and call its function {self.function!r}"


def resolve(path: str, base_dir: str) -> str:
    """``path`` (``~`` expanded) relative to ``base_dir`` unless it is absolute."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def parse_reference(text: str) -> FactoryReference:
    """Split ``"module:function"`` / ``"file.py:function"``; a ValueError says what is wrong."""
    expected = 'expected "module:function" or "path/to/file.py:function"'
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(f"{expected}; received {text!r}")
    target, function = (part.strip() for part in text.rsplit(":", 1))
    if not target or not function:
        raise ValueError(f"{expected}; received {text!r}")
    if not _IDENTIFIER.match(function):
        raise ValueError(f"{function!r} is not a Python function name ({expected}); received {text!r}")
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    if is_file and not target.endswith(".py"):
        raise ValueError(f"the factory file must be a .py file ({expected}); received {text!r}")
    if not is_file and not _MODULE.match(target):
        raise ValueError(f"{target!r} is not a module name such as models or my_pkg.models ({expected}); "
                         f"received {text!r}")
    return FactoryReference(text, target, function, is_file)


def refusal(reference: FactoryReference, base_dir: str) -> str:
    """The message for a config that names code the user has not allowed."""
    return (f"this config names code: factory = {reference.text!r} would {reference.describe(base_dir)}; "
            f"deepnet runs code named in a config only when you allow it: {ALLOW_CODE_HINT}")


def _module_from_file(path: str):
    name = "deepnet_user_factory_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        raise UsageFailure(f"cannot load the model factory file {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise UsageFailure(f"running the model factory file {path} failed: {type(e).__name__}: "
                           f"{one_line(e)}") from e
    return module


def _module_from_path(name: str, base_dir: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if not (e.name and (name == e.name or name.startswith(e.name + "."))):
            raise UsageFailure(f"importing the model factory module {name!r} failed: {one_line(e)}") from e
        local = os.path.join(base_dir, *name.split(".")) + ".py"
        hint = (f"; for the file next to the config write factory = \"{os.path.relpath(local, base_dir)}:...\""
                if os.path.isfile(local) else "")
        raise UsageFailure(f"cannot import the model factory module {name!r}: no module {e.name!r} on the "
                           f"Python path{hint}") from e
    except Exception as e:
        raise UsageFailure(f"importing the model factory module {name!r} failed: {type(e).__name__}: "
                           f"{one_line(e)}") from e


def load_function(reference: FactoryReference, base_dir: str, allow_code: bool, where=UsageFailure):
    """The function ``reference`` names: imports its module (which runs the module's code) but
    never calls the function. Refuses unless ``allow_code``. ``where(message)`` makes the
    exception for a problem of the reference itself (default: :class:`UsageFailure`)."""
    if not allow_code:
        raise where(refusal(reference, base_dir))
    if reference.is_file:
        path = resolve(reference.target, base_dir)
        if not os.path.isfile(path):
            raise where(f"the model factory file {path} does not exist")
        module = _module_from_file(path)
    else:
        module = _module_from_path(reference.target, base_dir)
    func = getattr(module, reference.function, None)
    if not callable(func):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise where(f"{reference.target} has no function {reference.function!r}."
                    f"{suggest(reference.function, names)}")
    return func
