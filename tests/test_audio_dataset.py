"""deepnet.utils.audio_dataset_from_directory (Keras' keras.utils.audio_dataset_from_directory)."""

from __future__ import annotations

import wave

import numpy as np
import pytest

import deepnet as dn
from deepnet.utils.audio_datasets import read_wav


def _wav(path, samples, rate=16000, width=2, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples).tobytes())


@pytest.fixture
def speech(tmp_path):
    for c, n in (("no", 3), ("yes", 2)):
        for i in range(n):
            _wav(tmp_path / c / f"{i}.wav", np.full(10 + 5 * i, 1000 * (i + 1), dtype="<i2"))
    return tmp_path


def test_read_wav_scales_like_decode_wav(tmp_path):
    _wav(tmp_path / "a.wav", np.array([0, 255, 128], dtype=np.uint8), width=1)
    _wav(tmp_path / "b.wav", np.array([-32768, 16384, 0, 1], dtype="<i2"), channels=2)
    _wav(tmp_path / "c.wav", np.array([-2**31, 2**30], dtype="<i4"), width=4)
    _wav(tmp_path / "d.wav", np.frombuffer(bytes([0, 0, 0x80, 0, 0, 0x40]), dtype=np.uint8), width=3)
    assert read_wav(tmp_path / "a.wav")[0].ravel().tolist() == [-1.0, 127 / 128, 0.0]
    audio, rate = read_wav(tmp_path / "b.wav")
    assert audio.shape == (2, 2) and rate == 16000
    np.testing.assert_allclose(audio, [[-1.0, 0.5], [0.0, 1 / 32768]])
    assert read_wav(tmp_path / "c.wav")[0].ravel().tolist() == [-1.0, 0.5]
    assert read_wav(tmp_path / "d.wav")[0].ravel().tolist() == [-1.0, 0.5]


def test_batches_pad_to_the_longest_clip_and_labels(speech):
    ds = dn.utils.audio_dataset_from_directory(speech, shuffle=False, batch_size=8, verbose=False)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (5, 20, 1) and y.tolist() == [0, 0, 0, 1, 1]
    assert ds.class_names == ["no", "yes"]
    assert x[0, :10, 0].tolist() == [1000 / 32768] * 10 and x[0, 10:].abs().sum() == 0
    cat = dn.utils.audio_dataset_from_directory(speech, label_mode="categorical", output_sequence_length=12,
                                                shuffle=False, verbose=False)
    x, y = next(iter(cat))
    assert tuple(x.shape) == (5, 12, 1) and y.tolist()[3] == [0.0, 1.0]


def test_split_sampling_rate_and_fit(speech):
    train, val = dn.utils.audio_dataset_from_directory(speech, validation_split=0.4, subset="both", seed=1,
                                                       output_sequence_length=16, verbose=False)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    model = dn.Sequential([dn.Input((16, 1)), dn.layers.Flatten(), dn.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(train, validation_data=val, epochs=1, verbose=0)
    assert "val_loss" in history.history
    with pytest.raises(ValueError, match="does not resample"):
        next(iter(dn.utils.audio_dataset_from_directory(speech, sampling_rate=8000, verbose=False)))


@pytest.mark.parametrize("kwargs, match", [
    ({"ragged": True}, "ragged"),
    ({"output_sequence_length": 0}, "output_sequence_length"),
    ({"sampling_rate": -1}, "sampling_rate"),
    ({"label_mode": "binary", "class_names": ["no"]}, "2 classes"),
    ({"validation_split": 0.2}, "subset"),
])
def test_bad_arguments(speech, kwargs, match):
    with pytest.raises(ValueError, match=match):
        dn.utils.audio_dataset_from_directory(speech, verbose=False, **kwargs)
