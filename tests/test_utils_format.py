"""deepnet.utils.formatting and deepnet.utils.seeding: the one shape formatter, byte formatter
and seeded-generator helper every package uses."""

from __future__ import annotations

import pytest
import torch

import deepnet as dn
from deepnet.utils.formatting import format_bytes, format_shape
from deepnet.utils.seeding import device_generator, make_generator


@pytest.mark.parametrize("shape, text", [
    ((None, 28, 28, 1), "(None, 28, 28, 1)"),
    ((5,), "(5,)"),
    ((), "()"),
    (torch.Size([2, 3]), "(2, 3)"),
    ([(None, 2), (None, 4)], "[(None, 2), (None, 4)]"),
    ({"a": (None, 2)}, "{a: (None, 2)}"),
    ("?", "?"),
])
def test_format_shape(shape, text):
    assert format_shape(shape) == text


@pytest.mark.parametrize("num_bytes, text", [
    (0, "0.00 B"), (244, "244.00 B"), (1023, "1023.00 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"),
    (18284072, "17.44 MiB"), (3 * 2**30, "3.00 GiB"), (2**50, "1.00 PiB"), (2**60, "1024.00 PiB"),
])
def test_format_bytes(num_bytes, text):
    assert format_bytes(num_bytes) == text


def test_one_formatter_everywhere():
    """The layers' public format_shape and the summary/memory-plan byte formatters are the utils ones."""
    from deepnet.layers import base
    from deepnet.models import summary

    assert base.format_shape is format_shape
    assert summary.readable_size(1536) == format_bytes(1536).replace("KiB", "KB")  # Keras' labels
    assert dn.utils.format_shape is format_shape and dn.utils.format_bytes is format_bytes


def test_summary_prints_keras_byte_units():
    model = dn.Sequential([dn.layers.Input((300,)), dn.layers.Dense(1000)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(1.15 MB)" in text  # 301,000 float32 parameters, labelled as Keras 3.15 labels them
    assert "MiB" not in text


def test_make_generator_is_reproducible():
    assert make_generator(None) is None
    a = torch.rand(3, generator=make_generator(11))
    assert torch.equal(a, torch.rand(3, generator=make_generator(11)))
    assert not torch.equal(a, torch.rand(3, generator=make_generator(12)))


def test_device_generator_caches_one_generator_per_device():
    cache: dict = {}
    cpu = torch.device("cpu")
    gen = device_generator(cache, 5, cpu)
    assert device_generator(cache, 5, cpu) is gen and list(cache) == [cpu]
    assert device_generator(cache, None, cpu) is None


def test_seeded_dropout_is_reproducible_across_instances():
    x = torch.ones(4, 8)
    a = dn.layers.Dropout(0.5, seed=3)(x, training=True)
    b = dn.layers.Dropout(0.5, seed=3)(x, training=True)
    assert torch.equal(a, b)
