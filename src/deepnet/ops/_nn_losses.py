"""Encoding, loss and CTC ops of ``keras.ops.nn``: unreduced per-sample values, as Keras'."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._dispatch import as_tensor, keras_op, resolve_dtype
from ._dispatch import to_float as as_float

EPSILON = 1e-7  # Keras' backend.epsilon()

def _no_sparse(sparse, op):
    if sparse:
        raise ValueError(f"ops.{op}: `sparse=True` is not supported on torch tensors (as in Keras' "
                         "torch backend). help: pass sparse=False.")


@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer ``x`` along a new ``axis``; negative indices give all zeros.

    >>> dn.ops.nn.one_hot(torch.tensor([0, 2]), 3)
    tensor([[1., 0., 0.],
            [0., 0., 1.]])
    """
    _no_sparse(sparse, "one_hot")
    x = as_tensor(x).long()
    out = F.one_hot(x.clamp(min=0), num_classes) * (x >= 0).unsqueeze(-1)
    out = out.to(resolve_dtype(dtype) or torch.float32)
    if axis not in (-1, out.ndim - 1):
        out = torch.movedim(out, -1, axis)
    return out


@keras_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: for each row of integer ``inputs``, 1 at every index it holds.

    >>> dn.ops.nn.multi_hot(torch.tensor([[0, 2], [1, 1]]), 3)
    tensor([[1., 0., 1.],
            [0., 1., 0.]])
    """
    num_classes = kwargs.pop("num_tokens", num_classes)
    if kwargs:
        raise TypeError(f"ops.multi_hot got unexpected keyword arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("ops.multi_hot: `num_classes` is required. Received: num_classes=None")
    _no_sparse(sparse, "multi_hot")
    x = as_tensor(inputs)
    reduce = 1 if x.ndim > 1 else 0
    return torch.amax(one_hot(x, num_classes, axis=axis, dtype=dtype), dim=reduce)


def _same_shapes(target, output, op):
    if target.shape != output.shape:
        raise ValueError(f"ops.{op}: `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy between ``target`` and probabilities (or logits).

    >>> dn.ops.nn.binary_crossentropy(torch.tensor([1.0]), torch.tensor([0.5]))
    tensor([0.6931])
    """
    target, output = as_float(target), as_float(output)
    _same_shapes(target, output, "binary_crossentropy")
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    return F.binary_cross_entropy(output, target, reduction="none")


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot ``target`` and probabilities (or logits) along ``axis``.

    >>> dn.ops.nn.categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
    tensor([0.6931])
    """
    target, output = as_float(target), as_float(output)
    _same_shapes(target, output, "categorical_crossentropy")
    if from_logits:
        log_prob = torch.log_softmax(output, dim=axis)
    else:
        output = output / output.sum(dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, EPSILON, 1.0 - EPSILON))
    return -(target * log_prob).sum(dim=axis)


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between integer class ``target`` and probabilities (or logits) on ``axis``.

    >>> dn.ops.nn.sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
    tensor([0.6931])
    """
    target, output = as_tensor(target).long(), as_float(output)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError("ops.sparse_categorical_crossentropy: `target` must have the shape of "
                         "`output` without the class axis. Received: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")
    if from_logits:
        log_prob = torch.log_softmax(output, dim=axis)
    else:
        output = output / output.sum(dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(output, EPSILON, 1.0 - EPSILON))
    log_prob = torch.movedim(log_prob, axis, -1)
    return -log_prob.gather(-1, target.unsqueeze(-1)).squeeze(-1)


@keras_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss per sample; ``output`` holds logits
    ``(batch, time, classes)`` and ``mask_index`` is the blank class.

    >>> dn.ops.nn.ctc_loss(torch.tensor([[1]]), torch.zeros(1, 2, 2), torch.tensor([1]),
    ...                    torch.tensor([2])).shape
    torch.Size([1])
    """
    output = as_float(output)
    log_probs = torch.log_softmax(output.transpose(0, 1), dim=-1)
    return F.ctc_loss(log_probs, as_tensor(target).long(), as_tensor(output_length).long(),
                      as_tensor(target_length).long(), blank=mask_index, reduction="none")


def _greedy_decode(x, lengths, merge_repeated, mask_index):
    batch, steps, _ = x.shape
    scores, best = x.max(dim=-1)
    beyond = torch.arange(steps, device=x.device)[None, :] >= lengths[:, None]
    best = torch.where(beyond, mask_index, best)
    scores = torch.where(beyond, torch.zeros_like(scores), scores)
    if merge_repeated:
        repeat = F.pad(best[:, 1:] == best[:, :-1], (1, 0))
        best = torch.where(repeat, mask_index, best)
    blank = best == mask_index
    order = torch.where(blank, steps, torch.arange(steps, device=x.device).expand(batch, steps))
    order = torch.argsort(order, dim=-1, stable=True)
    decoded = torch.where(blank, -1, best).gather(-1, order)
    return decoded.int().unsqueeze(0), -scores.sum(dim=1, keepdim=True)


def _lse(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` on floats."""
    if a == -math.inf:
        return b
    high, low = max(a, b), min(a, b)
    return high + math.log1p(math.exp(low - high))


def _prefix_beam(logp, length, beam_width, top_paths, mask_index):
    """Prefix beam search over one sequence of log-probabilities ``(time, classes)``: a prefix
    keeps two scores, ending in a blank and ending in its last label."""
    neg = -math.inf
    beams = {(): (0.0, neg)}
    for t in range(length):
        step = logp[t].tolist()
        new: dict[tuple, list[float]] = {}
        for prefix, (pb, pl) in beams.items():
            total = _lse(pb, pl)
            stay = new.setdefault(prefix, [neg, neg])
            stay[0] = _lse(stay[0], total + step[mask_index])
            for c, lp in enumerate(step):
                if c == mask_index:
                    continue
                repeat = bool(prefix) and prefix[-1] == c
                ext = new.setdefault((*prefix, c), [neg, neg])
                ext[1] = _lse(ext[1], (pb if repeat else total) + lp)
                if repeat:  # the same label again without a blank stays on the prefix
                    stay[1] = _lse(stay[1], pl + lp)
        ranked = sorted(new.items(), key=lambda kv: -_lse(*kv[1]))
        beams = {k: tuple(v) for k, v in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda kv: -_lse(*kv[1]))
    return [(path, _lse(*score)) for path, score in ranked[:top_paths]]


def _beam_decode(x, lengths, beam_width, top_paths, mask_index):
    batch, steps, _ = x.shape
    logp = torch.log_softmax(x, dim=-1)
    decoded = torch.full((top_paths, batch, steps), -1, dtype=torch.int32)
    scores = torch.full((batch, top_paths), float("-inf"), dtype=x.dtype)
    for b in range(batch):
        for k, (path, score) in enumerate(_prefix_beam(logp[b], int(lengths[b]), beam_width,
                                                       top_paths, mask_index)):
            if path:
                decoded[k, b, :len(path)] = torch.tensor(path, dtype=torch.int32)
            scores[b, k] = score
    return decoded.to(x.device), scores.to(x.device)


@keras_op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decodes CTC outputs ``(batch, time, classes)``: ``(paths, scores)`` with paths of shape
    ``(top_paths, batch, time)`` padded with -1 (``strategy`` "greedy" or "beam_search").

    >>> x = torch.tensor([[[0.1, 0.9], [0.1, 0.9], [0.9, 0.1]]])
    >>> dn.ops.nn.ctc_decode(x, torch.tensor([3]))[0]
    tensor([[[ 1, -1, -1]]], dtype=torch.int32)
    """
    x, lengths = as_float(inputs), as_tensor(sequence_lengths).long()
    if strategy == "greedy":
        return _greedy_decode(x, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return _beam_decode(x, lengths, beam_width, top_paths, mask_index)
    raise ValueError("ops.ctc_decode: `strategy` must be 'greedy' or 'beam_search'. "
                     f"Received: strategy={strategy!r}")
