"""The string hashes behind Keras' hashing layers, in pure Python so outputs equal Keras'.

* :func:`fingerprint64` is FarmHash's ``Fingerprint64`` (the ``farmhashna`` 64-bit hash), which
  TensorFlow's ``to_hash_bucket_fast`` applies (``Hashing`` without a salt, the OOV buckets of
  the lookup layers);
* :func:`siphash64` is SipHash-2-4 with a 128-bit key given as two 64-bit halves (TensorFlow's
  ``to_hash_bucket_strong``: ``Hashing(salt=...)``);
* :func:`fingerprint_cat64` combines two fingerprints (TensorFlow's ``FingerprintCat64``, used
  by ``HashedCrossing``).

Values that are not strings are hashed through their text form, as Keras does: integers as
their decimal digits, floats first truncated to integers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fingerprint64", "fingerprint_cat64", "hash_bins", "siphash64", "to_bytes"]

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_CAT_MUL = 0xC6A4A7935BD1E995


def _u64(data: bytes, i: int) -> int:
    return int.from_bytes(data[i:i + 8], "little")


def _u32(data: bytes, i: int) -> int:
    return int.from_bytes(data[i:i + 4], "little")


def _rot(v: int, s: int) -> int:
    return v if s == 0 else ((v >> s) | (v << (64 - s))) & _M


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s: bytes) -> int:
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_u64(s, 0) + _K2) & _M
        b = _u64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _len16((n + (_u32(s, 0) << 3)) & _M, _u32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K1) & _M
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M
    d = (_u64(s, n - 16) * _K2) & _M
    return _len16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K2) & _M
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M
    d = (_u64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_u64(s, 16) * mul) & _M
    f = _u64(s, 24)
    g = ((y + _u64(s, n - 32)) * mul) & _M
    h = ((z + _u64(s, n - 24)) * mul) & _M
    return _len16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M, (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s: bytes, i: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = _u64(s, i), _u64(s, i + 8), _u64(s, i + 16), _u64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def _round(s, i, state, mul, last):
    x, y, z, v, w = state
    nine = 9 if last else 1
    x = (_rot((x + y + v[0] + _u64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v[1] + _u64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * nine) & _M
    y = (y + v[0] * nine + _u64(s, i + 40)) & _M
    z = (_rot((z + w[0]) & _M, 33) * mul) & _M
    v = _weak32(s, i, (v[1] * mul) & _M, (x + w[0]) & _M)
    w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _u64(s, i + 16)) & _M)
    return z, y, x, v, w  # x and z swap after each round


def fingerprint64(data: bytes) -> int:
    """FarmHash ``Fingerprint64`` of ``data`` (an unsigned 64-bit integer).

    >>> fingerprint64(b"")
    11160318154034397263
    """
    n = len(data)
    if n <= 16:
        return _len0to16(data)
    if n <= 32:
        return _len17to32(data)
    if n <= 64:
        return _len33to64(data)
    seed = 81
    y = (seed * _K1 + 113) & _M
    state = ((seed * _K2 + _u64(data, 0)) & _M, y, (_shift_mix((y * _K2 + 113) & _M) * _K2) & _M, (0, 0), (0, 0))
    end = ((n - 1) // 64) * 64
    for i in range(0, end, 64):
        state = _round(data, i, state, _K1, last=False)
    x, y, z, v, w = state
    mul = _K1 + ((z & 0xFF) << 1)
    w0 = (w[0] + ((n - 1) & 63)) & _M
    v0 = (v[0] + w0) & _M
    w0 = (w0 + v0) & _M
    x, y, z, v, w = _round(data, n - 64, (x, y, z, (v0, v[1]), (w0, w[1])), mul, last=True)
    return _len16((_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M, (_len16(v[1], w[1], mul) + x) & _M, mul)


def _sip_round(v0, v1, v2, v3):
    v0 = (v0 + v1) & _M
    v1 = _rot(v1, 51) ^ v0  # rotl 13 == rotr 51
    v0 = _rot(v0, 32)
    v2 = (v2 + v3) & _M
    v3 = _rot(v3, 48) ^ v2  # rotl 16
    v0 = (v0 + v3) & _M
    v3 = _rot(v3, 43) ^ v0  # rotl 21
    v2 = (v2 + v1) & _M
    v1 = _rot(v1, 47) ^ v2  # rotl 17
    v2 = _rot(v2, 32)
    return v0, v1, v2, v3


def siphash64(key: tuple[int, int], data: bytes) -> int:
    """SipHash-2-4 of ``data`` with the 128-bit key ``(k0, k1)``.

    >>> siphash64((0x0706050403020100, 0x0F0E0D0C0B0A0908), b"")
    8246050544436514353
    """
    k0, k1 = key[0] & _M, key[1] & _M
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(data)
    tail = n & ~7
    for i in range(0, tail, 8):
        m = _u64(data, i)
        v[3] ^= m
        for _ in range(2):
            v = list(_sip_round(*v))
        v[0] ^= m
    m = int.from_bytes(data[tail:] + bytes(8 - (n - tail)), "little") | ((n & 0xFF) << 56)
    v[3] ^= m
    for _ in range(2):
        v = list(_sip_round(*v))
    v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        v = list(_sip_round(*v))
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """Combine two fingerprints into one (order matters).

    >>> fingerprint_cat64(1, 2) != fingerprint_cat64(2, 1)
    True
    """
    result = fp1 ^ _CAT_MUL
    result ^= (_shift_mix((fp2 * _CAT_MUL) & _M) * _CAT_MUL) & _M
    result = (result * _CAT_MUL) & _M
    result = (_shift_mix(result) * _CAT_MUL) & _M
    return _shift_mix(result)


def to_bytes(value, encoding: str = "utf-8") -> bytes:
    """The bytes Keras hashes for one value: strings encoded, integers (and floats truncated
    to integers) as their decimal digits.

    >>> to_bytes(-12), to_bytes(3.7), to_bytes("é")
    (b'-12', b'3', b'\\xc3\\xa9')
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode(encoding)
    if isinstance(value, (float, np.floating)):
        value = int(value)
    return str(int(value)).encode("ascii")


def hash_bins(values: np.ndarray, num_bins: int, salt=None) -> np.ndarray:
    """Hash every element of ``values`` into ``[0, num_bins)`` (an int64 array of the same shape):
    FarmHash ``Fingerprint64`` without ``salt``, SipHash-2-4 keyed by ``salt`` (two ints) with it.

    >>> hash_bins(np.array(["A", "B", "C"]), 3).tolist()
    [1, 0, 1]
    """
    flat = np.asarray(values, dtype=object).ravel()
    cache: dict = {}
    out = np.empty(flat.shape, dtype=np.int64)
    for i, item in enumerate(flat.tolist()):
        key = to_bytes(item)
        h = cache.get(key)
        if h is None:
            h = fingerprint64(key) if salt is None else siphash64(salt, key)
            cache[key] = h
        out[i] = h % num_bins
    return out.reshape(np.shape(values))
