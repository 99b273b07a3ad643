"""Keras' ``keras.utils.Config``: a dict with attribute access that can be frozen."""

from __future__ import annotations

import json

__all__ = ["Config"]


class Config:
    """Settings as attributes and items (``c.lr`` / ``c["lr"]``); ``freeze()`` makes them
    read-only (``unfreeze()`` reverses it); ``as_dict()`` and ``to_json()`` export them.

    >>> config = dn.utils.Config(learning_rate=0.1, layers=2)
    >>> config.units = 64
    >>> config["units"], config.learning_rate
    (64, 0.1)
    >>> config.freeze()
    >>> config.units = 1
    Traceback (most recent call last):
        ...
    AttributeError: Cannot set `units`: this Config is frozen. help: call `config.unfreeze()` first.
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check(self, name) -> None:
        if self._frozen:
            raise AttributeError(f"Cannot set `{name}`: this Config is frozen. help: call "
                                 "`config.unfreeze()` first.")

    def __getattr__(self, name):
        try:
            return self._config[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}; keys: {sorted(self._config)}") from None

    def __setattr__(self, name, value):
        self._check(name)
        self._config[name] = value

    def __delattr__(self, name):
        self._check(name)
        del self._config[name]

    def __getitem__(self, key):
        return self._config[key]

    def __setitem__(self, key, value):
        self.__setattr__(key, value)

    def __delitem__(self, key):
        self.__delattr__(key)

    def __contains__(self, key) -> bool:
        return key in self._config

    def __iter__(self):
        return iter(self._config)

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config!r}>"

    def get(self, key, default=None):
        return self._config.get(key, default)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._check(args[0] if args else "")
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._check(", ".join(map(str, dict(*args, **kwargs))))
        self._config.update(*args, **kwargs)

    def as_dict(self) -> dict:
        return dict(self._config)

    def to_json(self) -> str:
        return json.dumps(self._config)
