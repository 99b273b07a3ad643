"""Regressions found by probing deepnet as a Keras user would (issue 14): one test per
discrepancy, Keras 3 (torch backend) as the oracle where it is importable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")


def test_gaussian_blur_non_square_kernel_keeps_size_and_orientation():
    # Keras' documented semantics: kernel_size and sigma are (height, width); the image keeps its
    # size (Keras' torch backend pads by kernel_size[0] // 2 on both axes and changes it).
    x = torch.rand(2, 8, 9, 3)
    for size in ((3, 5), (5, 3), (4, 4), (1, 2)):
        out = dn.ops.image.gaussian_blur(x, size, (1.0, 2.0), data_format="channels_last")
        assert out.shape == x.shape
    impulse = torch.zeros(1, 7, 7, 1)
    impulse[0, 3, 3, 0] = 1.0
    out = dn.ops.image.gaussian_blur(impulse, (1, 5), data_format="channels_last")[0, :, :, 0]
    assert out[3].sum().item() == pytest.approx(1.0)  # blurred along the width only
    assert out[2].abs().sum().item() == 0.0
    square = keras.ops.image.gaussian_blur(x, (3, 3), (1.5, 1.5), data_format="channels_last")
    np.testing.assert_allclose(
        dn.ops.image.gaussian_blur(x, (3, 3), (1.5, 1.5), data_format="channels_last"),
        np.asarray(square), atol=1e-6)
