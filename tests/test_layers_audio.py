"""STFTSpectrogram and MelSpectrogram (issue 14): harness rows and Keras parity (torch backend)
of every mode, padding, window, scaling and layout. ``CASES`` is part of the table of
tests/test_layer_harness.py (its meta-test sees these layers covered)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet.layers as L
from harness import LayerCase

BINS = 9  # fft_length 16


def case(cls, kwargs, input_shape, output_shape, trainable=0, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, trainable, 0, **extra)


CASES = [
    case(L.STFTSpectrogram, {"frame_length": 16, "frame_step": 8}, (64, 2), (None, 7, 2 * BINS), 2 * 16 * BINS),
    case(L.STFTSpectrogram, {"frame_length": 16, "mode": "stft", "expand_dims": True, "padding": "same"},
         (64, 1), (None, 8, 2 * BINS, 1), 2 * 16 * BINS),
    case(L.STFTSpectrogram, {"frame_length": 16, "mode": "real", "data_format": "channels_first"},
         (1, 64), (None, BINS, 7), 16 * BINS),
    case(L.STFTSpectrogram, {"frame_length": 12, "fft_length": 16, "mode": "psd", "window": "hamming"},
         (40, 1), (None, 5, BINS), 2 * 12 * BINS),
    case(L.MelSpectrogram, {"fft_length": 64, "sequence_stride": 16, "num_mel_bins": 8}, (128,), (None, 8, 9)),
    case(L.MelSpectrogram, {"fft_length": 32, "sequence_stride": 8, "num_mel_bins": 6, "power_to_db": False},
         (64,), (None, 6, 9)),
]


@pytest.mark.parametrize("layer_case", CASES, ids=[f"{c.cls.__name__}-{i}" for i, c in enumerate(CASES)])
def test_harness(layer_case):
    layer_case.run()


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


STFT = [
    {"frame_length": 64},
    {"frame_length": 16, "frame_step": 5, "mode": "magnitude", "padding": "same"},
    {"frame_length": 12, "fft_length": 32, "mode": "psd", "window": "hamming", "scaling": "spectrum"},
    {"frame_length": 16, "mode": "stft", "expand_dims": True},
    {"frame_length": 16, "mode": "angle", "window": None},
    {"frame_length": 16, "mode": "real", "data_format": "channels_first", "scaling": None},
    {"frame_length": 16, "mode": "imag", "expand_dims": True, "data_format": "channels_first", "periodic": True},
    {"frame_length": 20, "window": "blackman", "padding": "same", "frame_step": 7},
    {"frame_length": 20, "window": "bartlett", "mode": "magnitude"},
]


@pytest.mark.parametrize("kwargs", STFT, ids=[str(i) for i in range(len(STFT))])
def test_stft_spectrogram_parity(keras, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 100, 2)).astype("float32")
    if kwargs.get("data_format") == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    ours = L.STFTSpectrogram(**kwargs)
    theirs = keras.layers.STFTSpectrogram(**kwargs)
    np.testing.assert_allclose(ours(torch.tensor(x)).detach().numpy(), np.asarray(theirs(x).detach().cpu()),
                               atol=2e-5, rtol=1e-5)
    assert tuple(ours.compute_output_shape((None, *x.shape[1:]))) == tuple(theirs.compute_output_shape(
        (None, *x.shape[1:])))
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, np.asarray(keras_weight), atol=1e-6)


MEL = [
    {"fft_length": 256, "sequence_stride": 64, "num_mel_bins": 20},
    {"fft_length": 256, "sequence_stride": 100, "sequence_length": 200, "window": "hamming", "power_to_db": False,
     "mag_exp": 1.0, "max_freq": 5000, "sampling_rate": 12000},
    {"fft_length": 128, "sequence_stride": 64, "window": None, "top_db": 20.0, "ref_power": 2.0, "min_freq": 0.0},
]


@pytest.mark.parametrize("kwargs", MEL, ids=[str(i) for i in range(len(MEL))])
def test_mel_spectrogram_parity(keras, kwargs):
    x = np.random.default_rng(1).standard_normal((2, 1000)).astype("float32")
    ours = L.MelSpectrogram(**kwargs)(torch.tensor(x)).numpy()
    theirs = np.asarray(keras.layers.MelSpectrogram(**kwargs)(x).cpu())
    np.testing.assert_allclose(ours, theirs, atol=2e-3, rtol=1e-4)


def test_mel_spectrogram_single_signal_and_bad_arguments():
    assert L.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=4)(torch.rand(256)).shape == (4, 9)
    with pytest.raises(ValueError, match="sequence_length"):
        L.MelSpectrogram(fft_length=64, sequence_length=128)
    with pytest.raises(ValueError, match="frame_step"):
        L.STFTSpectrogram(frame_length=16, frame_step=32)
    with pytest.raises(ValueError, match="fft_length"):
        L.STFTSpectrogram(frame_length=16, fft_length=8)
    with pytest.raises(TypeError, match="float"):
        L.STFTSpectrogram(frame_length=16)(torch.ones(1, 32, 1, dtype=torch.int64))
