"""Mixed precision policies (Keras names): ``set_global_policy("mixed_bfloat16")``.

Weights stay float32; under a mixed policy the training engine runs the forward pass and
the loss in ``torch.autocast`` with the compute dtype, and ``"mixed_float16"`` adds dynamic
loss scaling (``torch.amp.GradScaler``) so small gradients do not underflow.
"""

from __future__ import annotations

import torch

__all__ = ["DTypePolicy", "Policy", "global_policy", "set_global_policy"]

_POLICIES = {
    "float32": (torch.float32, torch.float32),
    "float64": (torch.float64, torch.float64),
    "mixed_float16": (torch.float16, torch.float32),
    "mixed_bfloat16": (torch.bfloat16, torch.float32),
}


class DTypePolicy:
    """A dtype policy: ``compute_dtype`` for activations, ``variable_dtype`` for weights.

    >>> policy = dn.mixed_precision.DTypePolicy("mixed_bfloat16")
    >>> policy.compute_dtype, policy.variable_dtype
    (torch.bfloat16, torch.float32)
    """

    def __init__(self, name: str = "float32"):
        if name not in _POLICIES:
            raise ValueError(
                f"Unknown dtype policy {name!r}; expected one of {', '.join(_POLICIES)}."
            )
        self.name = name
        self.compute_dtype, self.variable_dtype = _POLICIES[name]

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'

    def get_config(self) -> dict:
        return {"name": self.name}


Policy = DTypePolicy
_GLOBAL = DTypePolicy("float32")


def set_global_policy(policy) -> None:
    """Set the policy used by models compiled afterwards (``"mixed_bfloat16"``...).

    >>> dn.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> dn.mixed_precision.global_policy()
    <DTypePolicy "mixed_bfloat16">
    >>> dn.mixed_precision.set_global_policy("float32")  # back to the default
    """
    global _GLOBAL
    _GLOBAL = policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)


def global_policy() -> DTypePolicy:
    """The policy set by :func:`set_global_policy` (``"float32"`` by default).

    >>> dn.mixed_precision.global_policy()
    <DTypePolicy "float32">
    """
    return _GLOBAL
