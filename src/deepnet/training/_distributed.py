"""What the training loop does differently under a distribution (``deepnet.distribution``):
join the process group and wrap the model, give each rank its part of every global batch,
scale each rank's loss so DDP's average is the global-batch gradient, accumulate gradients
over micro-batches, reduce the epoch logs over ranks, and keep file-writing callbacks quiet
on every rank but 0. Without a distribution every function here is a cheap no-op."""

from __future__ import annotations

import collections
import types

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler
from torch.utils.data.distributed import DistributedSampler

from ..utils import nest
from ..utils.lazy import lazy_import
from .callbacks_impl import CSVLogger, ModelCheckpoint, TensorBoard
from .data import ArrayAdapter, IterableAdapter

_dist = lazy_import("deepnet.distribution")

__all__ = ["DistState", "attach", "begin_step", "is_main", "loss_for_backward", "predict_split", "quiet_callbacks",
           "reduced_logs", "shard", "shuffle_seed", "splits_predict"]

#: Callbacks that write files: on ranks other than 0 their hooks do nothing. ModelCheckpoint
#: runs on every rank (``model.save`` is collective: rank 0 writes, FSDP2 shards are gathered).
WRITERS = (CSVLogger, TensorBoard)


class DistState:
    """A trainer's distributed set-up: the wrapped model, this rank, the number of ranks and
    the size of the global batch being trained on (for the loss scale)."""

    def __init__(self, config, parallel, rank: int, world: int):
        self.config, self.parallel, self.rank, self.world = config, parallel, rank, world
        self.global_n: int | None = None
        self.pending: collections.deque = collections.deque()

    @property
    def net(self):
        return self.parallel


def is_main() -> bool:
    """True on rank 0 and outside a distributed run (usable before the group exists)."""
    return _dist.is_main_process()


def attach(trainer) -> DistState | None:
    """Join the process group and wrap the model once per trainer (``None`` when no
    distribution is in effect)."""
    if trainer._dist is not None:
        return trainer._dist
    config = _dist.distribution()
    if config is None:
        return None
    device = config.device_for(trainer.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    _dist.initialize(timeout=config.timeout, device_type=device.type)
    trainer.device = device
    trainer.model.to(device)
    parallel = _dist.wrap_model(trainer.model, config, device)
    return DistState(config, parallel, _dist.process_rank(), _dist.process_count())


def shuffle_seed(trainer, seed: int) -> int:
    """Rank 0's shuffling seed on every rank."""
    return _dist.shared_seed(seed) if trainer._dist is not None else seed


# ---------------------------------------------------------------------- gradient steps
def _accumulation(trainer) -> int:
    k = getattr(trainer.optimizer, "gradient_accumulation_steps", None)
    return int(k) if k else 1


def begin_step(trainer) -> None:
    """Before a step's forward: clear the gradients at the first micro-batch of a group and
    let DDP all-reduce only at its last (``no_sync`` for the others)."""
    k = _accumulation(trainer)
    micro = trainer.__dict__.get("_micro_step", 0) % k
    if micro == 0:
        trainer.optimizer.zero_grad()
    if trainer._dist is not None:
        trainer._dist.parallel.gradient_sync(micro == k - 1)


def loss_for_backward(trainer, loss, local_n: int):
    """``(loss to differentiate, whether to step the optimizer now)``: the loss divided by the
    accumulation steps and, across ranks, weighted by this rank's share of the global batch
    (DDP averages over ranks, so the result is the global batch's mean gradient)."""
    k = _accumulation(trainer)
    micro = trainer.__dict__.get("_micro_step", 0) % k
    trainer._micro_step = (micro + 1) % k
    state = trainer._dist
    if state is not None and state.global_n and local_n is not None:
        loss = loss * (local_n * state.world / state.global_n)
    if k > 1:
        loss = loss / k
    return loss, micro == k - 1


# ---------------------------------------------------------------------- logs
def reduced_logs(trainer, total: float, total_t, count: int) -> dict:
    """The epoch's logs over all ranks: summed loss totals and counts, summed metric states."""
    state = trainer._dist
    if state is None or state.world == 1:
        return trainer._running_logs(total, total_t, count)
    t_sum, n_sum = _dist.all_sum([total_t if total_t is not None else total, float(count)])
    metrics = [m for objs in trainer.metric_objs or [] for m in objs]
    with _dist.reduced_metric_states(metrics):
        return trainer._running_logs(float(t_sum), None, int(round(float(n_sum))))


def _mute(*args, **kwargs):
    return None


def _agreed_current(cb) -> None:
    """Make a ModelCheckpoint decide on rank 0's monitored value on every rank (batch logs are
    per rank), so every rank calls the collective ``model.save`` at the same steps."""
    if "_current" in cb.__dict__:
        return
    local = cb._current
    cb._current = lambda logs: _dist.main_value(local(logs))


def quiet_callbacks(callbacks: list) -> list:
    """On ranks other than 0, silence the hooks of file-writing callbacks (they stay in the
    list, so BackupAndRestore saves and restores the same callbacks on every rank);
    ModelCheckpoint runs everywhere, quiet and on rank 0's decisions."""
    if _dist.process_count() > 1:
        for cb in callbacks:
            if isinstance(cb, ModelCheckpoint):
                _agreed_current(cb)
                cb.verbose = cb.verbose if is_main() else 0
    if is_main():
        return callbacks
    for cb in callbacks:
        if isinstance(cb, WRITERS):
            for name in dir(type(cb)):
                if name.startswith("on_"):
                    setattr(cb, name, types.MethodType(_mute, cb))
    return callbacks


# ---------------------------------------------------------------------- data
def _split(n: int, world: int, rank: int) -> slice:
    """This rank's contiguous part of a batch of ``n`` (sizes differ by at most one)."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def _check_split(n: int, world: int, where: str) -> None:
    if n < world:
        raise ValueError(
            f"A global batch of {n} sample(s) {where} cannot be split across {world} processes (each needs at least "
            f"one). help: use batch_size >= {world} and a sample count whose remainder modulo batch_size is 0 or "
            f">= {world}, or set steps_per_epoch to skip the short last batch.")


class ShardedArrays:
    """An :class:`~deepnet.training.data.ArrayAdapter` seen by one rank: the same per-epoch
    permutation on every rank (shared generator), then rank ``r`` takes part ``r`` of every
    global batch."""

    def __init__(self, inner: ArrayAdapter, state: DistState):
        self.inner, self.state = inner, state
        # Training (the adapter fit shuffles with its generator) needs the same number of steps
        # on every rank; evaluation skips a rank's empty part of a short last batch.
        self.training = inner.generator is not None
        if not self.training:
            return
        full, last = divmod(inner.num_samples, inner.batch_size)
        _check_split(inner.batch_size if full else last, state.world, "of size batch_size")
        if last and inner.num_batches > full:
            _check_split(last, state.world, f"(the last of the epoch: {inner.num_samples} % {inner.batch_size})")

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __iter__(self):
        inner, state = self.inner, self.state
        n, bs = inner.num_samples, inner.batch_size
        order = torch.randperm(n, generator=inner.generator) if inner.shuffle else torch.arange(n)
        if inner.device is not None and inner.device.type != "cpu":
            order = order.to(inner.device, non_blocking=True)
        for b, start in enumerate(range(0, n, bs)):
            if b >= inner.num_batches:
                return
            idx = order[start:start + bs]
            idx = idx[_split(len(idx), state.world, state.rank)]
            if not len(idx):
                continue
            state.global_n = min(bs, n - start)
            take = lambda t: t[idx]  # noqa: E731, B023
            yield (nest.map_structure(take, inner.x), None if inner.y is None else nest.map_structure(take, inner.y),
                   None if inner.sample_weight is None else inner.sample_weight[idx])


class _RankBatches:
    """A batch sampler yielding this rank's part of each global batch of ``inner``; the global
    sizes queue up in ``sizes`` for the loss scale (the loop pops one per batch)."""

    def __init__(self, inner, state: DistState):
        self.inner, self.state = inner, state

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        for batch in self.inner:
            batch = list(batch)
            _check_split(len(batch), self.state.world, "from the DataLoader")
            self.state.pending.append(len(batch))
            yield batch[_split(len(batch), self.state.world, self.state.rank)]


def _reshard_loader(loader: DataLoader, state: DistState, seed: int) -> DataLoader:
    sampler = loader.batch_sampler
    inner = sampler.sampler if isinstance(sampler, BatchSampler) else None
    if isinstance(inner, RandomSampler) and inner.generator is None:  # same order on every rank
        gen = torch.Generator().manual_seed(seed)
        inner = RandomSampler(inner.data_source, inner.replacement, inner._num_samples, generator=gen)
        sampler = BatchSampler(inner, sampler.batch_size, sampler.drop_last)
    return DataLoader(loader.dataset, batch_sampler=_RankBatches(sampler, state), num_workers=loader.num_workers,
                      collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, timeout=loader.timeout,
                      worker_init_fn=loader.worker_init_fn, persistent_workers=loader.persistent_workers,
                      generator=loader.generator)  # the loader draws its workers' seed from it, as before


class ShardedStream:
    """An :class:`~deepnet.training.data.IterableAdapter` seen by one rank: a map-style
    Dataset/DataLoader is re-batched so each rank loads only its part of every global batch;
    a generator or IterableDataset is read whole by every rank (it must yield the same batches
    on every rank), each rank keeping its part."""

    def __init__(self, inner: IterableAdapter, state: DistState):
        self.inner, self.state = inner, state
        loader = inner.loader
        self.resampled = isinstance(loader, DataLoader) and loader.batch_sampler is not None and not isinstance(
            getattr(loader.batch_sampler, "sampler", None), DistributedSampler)
        self.user_sharded = isinstance(loader, DataLoader) and isinstance(
            getattr(loader, "sampler", None), DistributedSampler)
        if self.resampled:
            seed = _dist.shared_seed(int(torch.randint(0, 2**62, (1,)).item()))
            inner.loader = _reshard_loader(loader, state, seed)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def first_batch(self):
        return self.inner.first_batch()

    def check_view(self):
        return self.inner.check_view()

    def __iter__(self):
        state = self.state
        if self.inner._peeked is None:  # a batch peeked for the checks already queued its size
            state.pending.clear()
        for xb, yb, swb in self.inner:
            if self.resampled:
                state.global_n = state.pending.popleft() if state.pending else None
            elif self.user_sharded:
                state.global_n = None  # a DistributedSampler already gave each rank its samples
            else:
                n = nest.flatten(xb)[0].shape[0]
                _check_split(n, state.world, "from the generator")
                part = _split(n, state.world, state.rank)
                take = lambda t: t[part]  # noqa: E731, B023
                xb, yb = nest.map_structure(take, xb), None if yb is None else nest.map_structure(take, yb)
                swb = None if swb is None else swb[part]
                state.global_n = n
            yield xb, yb, swb


def shard(trainer, adapter):
    """``adapter`` as this rank sees it (unchanged without a distribution); every rank must
    get the same number of batches (checked here: an error names the rank that differs)."""
    state = trainer._dist
    if state is None or state.world == 1:
        return adapter
    if isinstance(adapter, ArrayAdapter):
        sharded = ShardedArrays(adapter, state)
    else:
        sharded = ShardedStream(adapter, state)
    _dist.check_agree(sharded.num_batches, "the number of batches per epoch",
                      help="give every rank the same data (or DataLoaders of the same length), or set "
                      "steps_per_epoch.")
    return sharded


# ---------------------------------------------------------------------- predict
def splits_predict(trainer, x) -> bool:
    """Whether ``predict(x)`` is split across ranks: a distribution with several processes,
    arrays (not a Dataset or generator) and replicated weights (FSDP2's forward is a collective,
    so a sharded model predicts everything on every rank)."""
    config = _dist.distribution()
    if config is None or config.shard_weights or _dist.process_count() < 2 or not trainer.model.built:
        return False
    leaves = nest.flatten(x)
    return bool(leaves) and all(hasattr(a, "shape") and hasattr(a, "__getitem__") for a in leaves)


def predict_split(trainer, x, run):
    """``run(x)`` computed data-parallel: rank ``r`` predicts the ``r``-th contiguous part of
    the samples, and every rank gets all the predictions, in the order of ``x``."""
    state = trainer._dist
    n = nest.flatten(x)[0].shape[0]
    part = _split(n, state.world, state.rank)
    local = run(nest.map_structure(lambda a: a[part], x)) if part.stop > part.start else None
    outputs = [o for o in _dist.gather_objects(local) if o is not None]
    flat = [nest.flatten(o) for o in outputs]
    merged = [np.concatenate([f[i] for f in flat]) for i in range(len(flat[0]))]
    return nest.pack_like(outputs[0], merged)
