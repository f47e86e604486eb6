"""The algorithm contract every swappable stage follows (pose backend, cleaner, view detector, event detector).

Modelled on gaitmap's algorithm classes (after scikit-learn's estimators), so that a stage can be
chosen by name from the settings, tuned through its parameters and compared with another one
without knowing its internals:

- every parameter is an argument of ``__init__``, stored under the same name and nothing else
  happens there (no model loading, no data);
- one action method (``_action_method`` names it: ``estimate``, ``clean``, ``detect``) does the
  work and returns ``self``;
- results are attributes whose names end in ``_`` (``keypoints_``, ``view_``, ``ic_``); they exist
  only after the action ran;
- ``get_params()`` / ``set_params(**p)`` read and change the parameters, ``clone()`` gives an
  unrun copy with the same ones.

Registration by name (and discovery of outside packages' classes) is in :mod:`runform.registry`.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, TypeVar

from .errors import InputError

A = TypeVar("A", bound="Algorithm")


class Algorithm:
    """Base of every swappable stage; subclasses set ``kind``, ``name`` and ``_action_method``."""

    #: registry the class belongs to: "pose_backend", "cleaner", "view_detector" or "event_detector"
    kind: ClassVar[str] = ""
    #: the name settings use to choose it (unique within its kind)
    name: ClassVar[str] = ""
    #: the method that does the work and returns self
    _action_method: ClassVar[str] = ""

    @classmethod
    def param_names(cls) -> list[str]:
        """Parameters are the named arguments of ``__init__``; a ``**kw`` there passes the parent
        class's parameters through, so those count too (a subclass that adds one parameter)."""
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            if init is object.__init__:
                break
            forwards = False
            for p in inspect.signature(init).parameters.values():
                if p.name == "self":
                    continue
                if p.kind == p.VAR_POSITIONAL:
                    raise TypeError(f"{cls.__name__}.__init__ takes *{p.name}: an algorithm's parameters must be "
                                    "named in its signature.")
                if p.kind == p.VAR_KEYWORD:
                    forwards = True
                elif p.name not in names:
                    names.append(p.name)
            if not forwards:
                break
        return names

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.param_names()}

    def set_params(self: A, **params: Any) -> A:
        """Change parameters before the action runs; an unknown name is the user's error, said plainly."""
        known = self.param_names()
        bad = [k for k in params if k not in known]
        if bad:
            raise InputError(f"{self.name or type(self).__name__}: unknown parameter(s) {', '.join(bad)}; "
                             f"known: {', '.join(known) or 'none'}.")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def clone(self: A) -> A:
        """A fresh, unrun instance with the same parameters (results are not copied)."""
        return type(self)(**self.get_params())

    def results(self) -> dict[str, Any]:
        """The result attributes (names ending in ``_``) the action set."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def action(self):
        """The bound action method, for code that runs any algorithm without knowing its kind."""
        return getattr(self, self._action_method)

    def __getattr__(self, item: str):
        # only reached when normal lookup fails: say why a result is missing instead of a bare AttributeError
        if item.endswith("_") and not item.startswith("_"):
            raise AttributeError(f"{type(self).__name__}.{item} is a result: call .{self._action_method}(...) first.")
        raise AttributeError(item)

    def __repr__(self) -> str:
        p = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({p})"
