"""Element-wise NumPy-style ops (``keras.ops.numpy``): unary math, binary arithmetic,
comparisons, logical and bitwise ops. Most are generated from the tables below: the table row
gives the torch function, how the result dtype follows from the inputs, and the docstring.
"""

from __future__ import annotations

import torch

from ._dispatch import as_tensor, float_dtype, keras_op, result_type, to_float

# The result-dtype rules of the tables: "float" converts integers to float32 first (Keras'
# `sin`, `sqrt`, `ceil` ... on ints); "same" keeps the (promoted) dtype; "bool" returns bools.


def _promoted(x1, x2, to_float_type: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = result_type(x1, x2)
    if to_float_type:
        dtype = float_dtype(dtype)
    a, b = as_tensor(x1, dtype), as_tensor(x2, dtype)
    if a.device != b.device:  # a NumPy array or Python number meets a tensor on an accelerator
        a, b = (a.to(b.device), b) if isinstance(x2, torch.Tensor) else (a, b.to(a.device))
    return a, b


def _cbrt(x):
    return torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)


def _isreal(x):
    return torch.isreal(x)


def _divide_no_nan(x1, x2):
    safe = torch.where(x2 == 0, torch.ones_like(x2), x2)
    return torch.where(x2 == 0, torch.zeros_like(x1), x1 / safe)


def _heaviside(x1, x2):
    return torch.heaviside(x1, x2)


# name -> (torch function, result kind, summary, example call, expected output)
_UNARY = {
    "abs": (torch.abs, "same", "Absolute value, element-wise.", "[-1.5, 2.0]", "tensor([1.5000, 2.0000])"),
    "absolute": (torch.abs, "same", "Absolute value (alias of ``abs``).", "[-3, 2]",
                 "tensor([3, 2], dtype=torch.int32)"),
    "fabs": (torch.abs, "float", "Absolute value as floats.", "[-3, 2]", "tensor([3., 2.])"),
    "negative": (torch.negative, "same", "Numerical negative, element-wise.", "[1.0, -2.0]",
                 "tensor([-1.,  2.])"),
    "sign": (torch.sign, "same", "Sign (-1, 0 or 1), element-wise.", "[-2.0, 0.0, 3.0]",
             "tensor([-1.,  0.,  1.])"),
    "square": (torch.square, "same", "Square, element-wise.", "[2, -3]", "tensor([4, 9], dtype=torch.int32)"),
    "sqrt": (torch.sqrt, "float", "Square root, element-wise.", "[4.0, 9.0]", "tensor([2., 3.])"),
    "cbrt": (_cbrt, "float", "Cube root, element-wise.", "[8.0, -27.0]", "tensor([ 2., -3.])"),
    "reciprocal": (torch.reciprocal, "float", "``1 / x``, element-wise.", "[2.0, 4.0]",
                   "tensor([0.5000, 0.2500])"),
    "exp": (torch.exp, "float", "Exponential, element-wise.", "[0.0, 1.0]", "tensor([1.0000, 2.7183])"),
    "exp2": (torch.exp2, "float", "``2 ** x``, element-wise.", "[0.0, 3.0]", "tensor([1., 8.])"),
    "expm1": (torch.expm1, "float", "``exp(x) - 1``, accurate near 0.", "[0.0]", "tensor([0.])"),
    "log": (torch.log, "float", "Natural logarithm, element-wise.", "[1.0]", "tensor([0.])"),
    "log10": (torch.log10, "float", "Base-10 logarithm, element-wise.", "[100.0]", "tensor([2.])"),
    "log2": (torch.log2, "float", "Base-2 logarithm, element-wise.", "[8.0]", "tensor([3.])"),
    "log1p": (torch.log1p, "float", "``log(1 + x)``, accurate near 0.", "[0.0]", "tensor([0.])"),
    "sin": (torch.sin, "float", "Sine, element-wise.", "[0.0]", "tensor([0.])"),
    "cos": (torch.cos, "float", "Cosine, element-wise.", "[0.0]", "tensor([1.])"),
    "tan": (torch.tan, "float", "Tangent, element-wise.", "[0.0]", "tensor([0.])"),
    "arcsin": (torch.arcsin, "float", "Inverse sine, element-wise.", "[0.0]", "tensor([0.])"),
    "arccos": (torch.arccos, "float", "Inverse cosine, element-wise.", "[1.0]", "tensor([0.])"),
    "arctan": (torch.arctan, "float", "Inverse tangent, element-wise.", "[0.0]", "tensor([0.])"),
    "sinh": (torch.sinh, "float", "Hyperbolic sine, element-wise.", "[0.0]", "tensor([0.])"),
    "cosh": (torch.cosh, "float", "Hyperbolic cosine, element-wise.", "[0.0]", "tensor([1.])"),
    "tanh": (torch.tanh, "float", "Hyperbolic tangent, element-wise.", "[0.0]", "tensor([0.])"),
    "arcsinh": (torch.arcsinh, "float", "Inverse hyperbolic sine, element-wise.", "[0.0]", "tensor([0.])"),
    "arccosh": (torch.arccosh, "float", "Inverse hyperbolic cosine, element-wise.", "[1.0]", "tensor([0.])"),
    "arctanh": (torch.arctanh, "float", "Inverse hyperbolic tangent, element-wise.", "[0.0]", "tensor([0.])"),
    "deg2rad": (torch.deg2rad, "float", "Degrees to radians.", "[180.0]", "tensor([3.1416])"),
    "rad2deg": (torch.rad2deg, "float", "Radians to degrees.", "[3.14159265]", "tensor([180.])"),
    "i0": (torch.special.i0, "float", "Modified Bessel function of the first kind, order 0.", "[0.0]",
           "tensor([1.])"),
    "sinc": (torch.sinc, "float", "Normalised sinc, ``sin(pi x) / (pi x)``.", "[0.0]", "tensor([1.])"),
    "ceil": (torch.ceil, "float", "Ceiling, element-wise (integers become floats, as in Keras).", "[1.2, -1.2]",
             "tensor([ 2., -1.])"),
    "floor": (torch.floor, "float", "Floor, element-wise (integers become floats, as in Keras).", "[1.7, -1.2]",
              "tensor([ 1., -2.])"),
    "trunc": (torch.trunc, "same", "Round towards zero, element-wise.", "[1.7, -1.7]", "tensor([ 1., -1.])"),
    "angle": (torch.angle, "float", "Argument (angle) of complex numbers; 0 or pi for reals.", "[-1.0, 1.0]",
              "tensor([3.1416, 0.0000])"),
    "conj": (torch.conj_physical, "same", "Complex conjugate, element-wise.", "[1.0]", "tensor([1.])"),
    "conjugate": (torch.conj_physical, "same", "Complex conjugate (alias of ``conj``).", "[1.0]", "tensor([1.])"),
    "real": (torch.real, "same", "Real part, element-wise.", "[1.5]", "tensor([1.5000])"),
    "logical_not": (torch.logical_not, "bool", "Logical NOT, element-wise.", "[True, False]",
                    "tensor([False,  True])"),
    "isfinite": (torch.isfinite, "bool", "Whether each element is finite.", "[1.0, float('inf')]",
                 "tensor([ True, False])"),
    "isinf": (torch.isinf, "bool", "Whether each element is +/- infinity.", "[1.0, float('inf')]",
              "tensor([False,  True])"),
    "isnan": (torch.isnan, "bool", "Whether each element is NaN.", "[1.0, float('nan')]",
              "tensor([False,  True])"),
    "isneginf": (torch.isneginf, "bool", "Whether each element is -infinity.", "[1.0, -float('inf')]",
                 "tensor([False,  True])"),
    "isposinf": (torch.isposinf, "bool", "Whether each element is +infinity.", "[1.0, float('inf')]",
                 "tensor([False,  True])"),
    "isreal": (_isreal, "bool", "Whether each element has no imaginary part.", "[1.0]", "tensor([True])"),
    "signbit": (torch.signbit, "bool", "Whether the sign bit is set (negative numbers, -0.0).", "[-1.0, 1.0]",
                "tensor([ True, False])"),
    "bitwise_invert": (torch.bitwise_not, "same", "Bitwise NOT of integers (``~x``).", "[0, 1]",
                       "tensor([-1, -2], dtype=torch.int32)"),
    "bitwise_not": (torch.bitwise_not, "same", "Bitwise NOT of integers (alias of ``bitwise_invert``).", "[0, 1]",
                    "tensor([-1, -2], dtype=torch.int32)"),
}

_BINARY = {
    "add": (torch.add, "same", "``x1 + x2``, element-wise with broadcasting.", "[1, 2], 3",
            "tensor([4, 5], dtype=torch.int32)"),
    "subtract": (torch.subtract, "same", "``x1 - x2``, element-wise.", "[5, 2], 1",
                 "tensor([4, 1], dtype=torch.int32)"),
    "multiply": (torch.multiply, "same", "``x1 * x2``, element-wise.", "[1.5, 2.0], 2", "tensor([3., 4.])"),
    "divide": (torch.true_divide, "float", "``x1 / x2`` (true division; integers give floats).", "[1, 3], 2",
               "tensor([0.5000, 1.5000])"),
    "true_divide": (torch.true_divide, "float", "``x1 / x2`` (alias of ``divide``).", "[1, 3], 2",
                    "tensor([0.5000, 1.5000])"),
    "divide_no_nan": (_divide_no_nan, "float", "``x1 / x2``, with 0 where ``x2`` is 0.", "[1.0, 2.0], [0.0, 4.0]",
                      "tensor([0.0000, 0.5000])"),
    "floor_divide": (torch.floor_divide, "same", "``x1 // x2`` (rounds towards -infinity).", "[7, -7], 2",
                     "tensor([ 3, -4], dtype=torch.int32)"),
    "mod": (torch.remainder, "same", "``x1 % x2`` (the sign of the divisor, as in Python).", "[7, -7], 3",
            "tensor([1, 2], dtype=torch.int32)"),
    "fmod": (torch.fmod, "same", "C-style remainder (the sign of the dividend).", "[7, -7], 3",
             "tensor([ 1, -1], dtype=torch.int32)"),
    "power": (torch.pow, "same", "``x1 ** x2``, element-wise.", "[2, 3], 2", "tensor([4, 9], dtype=torch.int32)"),
    "maximum": (torch.maximum, "same", "Element-wise maximum (NaN propagates).", "[1, 5], [4, 2]",
                "tensor([4, 5], dtype=torch.int32)"),
    "minimum": (torch.minimum, "same", "Element-wise minimum (NaN propagates).", "[1, 5], [4, 2]",
                "tensor([1, 2], dtype=torch.int32)"),
    "fmax": (torch.fmax, "same", "Element-wise maximum ignoring NaN.", "[1.0, float('nan')], [2.0, 3.0]",
             "tensor([2., 3.])"),
    "fmin": (torch.fmin, "same", "Element-wise minimum ignoring NaN.", "[1.0, float('nan')], [2.0, 3.0]",
             "tensor([1., 3.])"),
    "arctan2": (torch.arctan2, "float", "Angle of the point ``(x2, x1)``, element-wise.", "[1.0], [1.0]",
                "tensor([0.7854])"),
    "hypot": (torch.hypot, "float", "``sqrt(x1**2 + x2**2)``, element-wise.", "[3.0], [4.0]", "tensor([5.])"),
    "logaddexp": (torch.logaddexp, "float", "``log(exp(x1) + exp(x2))``, computed stably.", "[0.0], [0.0]",
                  "tensor([0.6931])"),
    "logaddexp2": (torch.logaddexp2, "float", "``log2(2**x1 + 2**x2)``, computed stably.", "[1.0], [1.0]",
                   "tensor([2.])"),
    "heaviside": (_heaviside, "float", "Heaviside step: 0 below zero, 1 above, ``x2`` at zero.",
                  "[-1.0, 0.0, 2.0], 0.5", "tensor([0.0000, 0.5000, 1.0000])"),
    "nextafter": (torch.nextafter, "float", "The next float after ``x1`` towards ``x2``.", "[1.0], [2.0]",
                  "tensor([1.0000])"),
    "gcd": (torch.gcd, "same", "Greatest common divisor of integers.", "[12, 9], 6",
            "tensor([6, 3], dtype=torch.int32)"),
    "lcm": (torch.lcm, "same", "Least common multiple of integers.", "[4, 6], 3",
            "tensor([12,  6], dtype=torch.int32)"),
    "equal": (torch.eq, "bool", "``x1 == x2``, element-wise.", "[1, 2], 2", "tensor([False,  True])"),
    "not_equal": (torch.ne, "bool", "``x1 != x2``, element-wise.", "[1, 2], 2", "tensor([ True, False])"),
    "greater": (torch.gt, "bool", "``x1 > x2``, element-wise.", "[1, 3], 2", "tensor([False,  True])"),
    "greater_equal": (torch.ge, "bool", "``x1 >= x2``, element-wise.", "[1, 2], 2", "tensor([False,  True])"),
    "less": (torch.lt, "bool", "``x1 < x2``, element-wise.", "[1, 3], 2", "tensor([ True, False])"),
    "less_equal": (torch.le, "bool", "``x1 <= x2``, element-wise.", "[1, 3], 2", "tensor([ True, False])"),
    "logical_and": (torch.logical_and, "bool", "Logical AND, element-wise.", "[True, False], True",
                    "tensor([ True, False])"),
    "logical_or": (torch.logical_or, "bool", "Logical OR, element-wise.", "[True, False], False",
                   "tensor([ True, False])"),
    "logical_xor": (torch.logical_xor, "bool", "Logical XOR, element-wise.", "[True, False], True",
                    "tensor([False,  True])"),
    "bitwise_and": (torch.bitwise_and, "same", "Bitwise AND of integers.", "[12, 10], 6",
                    "tensor([4, 2], dtype=torch.int32)"),
    "bitwise_or": (torch.bitwise_or, "same", "Bitwise OR of integers.", "[12, 10], 6",
                   "tensor([14, 14], dtype=torch.int32)"),
    "bitwise_xor": (torch.bitwise_xor, "same", "Bitwise XOR of integers.", "[12, 10], 6",
                    "tensor([10, 12], dtype=torch.int32)"),
    "bitwise_left_shift": (torch.bitwise_left_shift, "same", "``x1 << x2`` for integers.", "[1, 3], 2",
                           "tensor([ 4, 12], dtype=torch.int32)"),
    "left_shift": (torch.bitwise_left_shift, "same", "``x1 << x2`` (alias of ``bitwise_left_shift``).",
                   "[1, 3], 2", "tensor([ 4, 12], dtype=torch.int32)"),
    "bitwise_right_shift": (torch.bitwise_right_shift, "same", "``x1 >> x2`` for integers.", "[8, 12], 2",
                            "tensor([2, 3], dtype=torch.int32)"),
    "right_shift": (torch.bitwise_right_shift, "same", "``x1 >> x2`` (alias of ``bitwise_right_shift``).",
                    "[8, 12], 2", "tensor([2, 3], dtype=torch.int32)"),
}


def _doc(name: str, summary: str, example: str, expected: str, arity: str) -> str:
    return (f"{summary}\n\nKeras ``ops.{name}({arity})``; NumPy arrays and Python numbers are accepted, "
            f"a torch tensor is returned.\n\n>>> dn.ops.{name}({example})\n{expected}\n")


def _make_unary(name: str, fn, kind: str, doc: str):
    def unary(x):
        x = to_float(x) if kind == "float" else as_tensor(x)
        return fn(x)

    unary.__name__ = unary.__qualname__ = name
    unary.__doc__ = doc
    return keras_op(unary)


def _make_binary(name: str, fn, kind: str, doc: str):
    if name.startswith("bitwise_") or name.endswith("_shift"):  # Keras names these arguments x, y
        def binary(x, y):
            a, b = _promoted(x, y)
            return fn(a, b)
    else:
        def binary(x1, x2):
            a, b = _promoted(x1, x2, to_float_type=kind == "float")
            return fn(a, b)

    binary.__name__ = binary.__qualname__ = name
    binary.__doc__ = doc
    return keras_op(binary)


for _name, (_fn, _kind, _summary, _example, _expected) in _UNARY.items():
    globals()[_name] = _make_unary(_name, _fn, _kind, _doc(_name, _summary, _example, _expected, "x"))
for _name, (_fn, _kind, _summary, _example, _expected) in _BINARY.items():
    _args = "x, y" if _name.startswith("bitwise_") or _name.endswith("_shift") else "x1, x2"
    globals()[_name] = _make_binary(_name, _fn, _kind, _doc(_name, _summary, _example, _expected, _args))


@keras_op
def imag(x):
    """Imaginary part, element-wise (zeros for real inputs, where torch refuses).

    >>> dn.ops.imag(torch.tensor([1 + 2j]))
    tensor([2.])
    """
    x = as_tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


@keras_op
def round(x, decimals=0):  # noqa: A001 -- Keras' name
    """Round half to even, to ``decimals`` places (integers stay integers).

    >>> dn.ops.round(torch.tensor([0.5, 1.5, 1.26]), decimals=1)
    tensor([0.5000, 1.5000, 1.3000])
    """
    x = as_tensor(x)
    if not x.is_floating_point():
        return x if decimals >= 0 else (torch.round(x.double(), decimals=decimals)).to(x.dtype)
    return torch.round(x, decimals=decimals)


@keras_op
def ldexp(x1, x2):
    """``x1 * 2 ** x2`` (``x2`` must hold integers).

    >>> dn.ops.ldexp(torch.tensor([1.5]), 3)
    tensor([12.])
    """
    x1 = to_float(x1)
    x2 = as_tensor(x2)
    if x2.is_floating_point() or x2.is_complex():
        raise TypeError(f"ldexp's exponent `x2` must hold integers; received dtype {x2.dtype}.")
    return torch.ldexp(x1, x2.to(x1.dtype)) if x1.dtype != torch.float16 else x1 * torch.pow(2.0, x2).to(x1.dtype)


__all__ = sorted([*_UNARY, *_BINARY, "imag", "round", "ldexp"])
