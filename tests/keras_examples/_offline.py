"""Offline stand-ins for what the keras.io examples download, small and learnable, the same for
deepnet and for Keras (the reference run), so that both frameworks see identical data.

The example texts stay unmodified: the runner replaces the frameworks' data-set loaders,
``utils.get_file`` and a few file reads (``np.loadtxt`` of a URL, ``open`` of a hard-coded path)
before the example runs. Every function here is deterministic (seeded).
"""

from __future__ import annotations

import builtins
import os

import numpy as np

N_TRAIN, N_TEST = 512, 128


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


def _images(name: str, shape, classes: int, n_train: int = N_TRAIN):
    """Images whose class is written into their brightness pattern (so a model can learn it)."""
    rng = _rng(name)

    def make(n):
        y = rng.integers(0, classes, n).astype("uint8")
        x = rng.integers(0, 60, (n, *shape)).astype("int64")
        rows = shape[0]
        band = max(1, rows // classes)
        for i, label in enumerate(y):
            x[i, label * band % rows:(label * band % rows) + band] += 180
        return np.clip(x, 0, 255).astype("uint8"), y

    return make(n_train), make(N_TEST)


def mnist_load_data(path="mnist.npz"):
    # Some examples reshape with MNIST's true sizes (x_train.reshape(60000, 784)) or keep the last
    # 10,000 samples for validation: the manifest sets KEX_MNIST="train,test" for those.
    n_train, n_test = (int(v) for v in os.environ.get("KEX_MNIST", f"{N_TRAIN},{N_TEST}").split(","))
    (x, y), _ = _images("mnist", (28, 28), 10, n_train)
    (xt, yt), _ = _images("mnist_test", (28, 28), 10, n_test)
    return (x, y), (xt, yt)


def fashion_mnist_load_data():
    return _images("fashion_mnist", (28, 28), 10)


def cifar10_load_data():
    (x, y), (xt, yt) = _images("cifar10", (32, 32, 3), 10)
    return (x, y[:, None]), (xt, yt[:, None])


def cifar100_load_data(label_mode="fine"):
    """CIFAR-100's shapes, 512 images of one class (7). The ViT example's first AdamW steps
    (lr 1e-3 on a 36864 -> 2048 head) make any 100-way classifier's loss jump for a few steps,
    under Keras as under deepnet: with two batches per capped epoch, the loss only falls from
    the first epoch to the second when every step pushes the same class up."""
    (x, _), (xt, _) = _images("cifar100", (32, 32, 3), 10)
    return (x, np.full((len(x), 1), 7, "int64")), (xt, np.full((len(xt), 1), 7, "int64"))


def _sequences(name: str, num_words, classes: int, maxlen=None):
    rng = _rng(name)
    vocab = num_words or 2000
    limit = maxlen or 120

    def make(n):
        y = rng.integers(0, classes, n)
        xs = []
        for label in y:
            length = int(rng.integers(20, max(21, limit)))
            seq = rng.integers(4, vocab, length)
            seq[rng.random(length) < 0.3] = 4 + label  # class-specific words
            xs.append([1] + seq.tolist())
        out = np.empty(n, dtype=object)
        out[:] = xs
        return out, y.astype("int64")

    return make(N_TRAIN), make(N_TEST)


def imdb_load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
                   oov_char=2, index_from=3, **kwargs):
    return _sequences("imdb", num_words, 2, maxlen)


def imdb_get_word_index(path="imdb_word_index.json"):
    return {f"word{i}": i for i in range(1, 2000)}


def reuters_load_data(path="reuters.npz", num_words=None, maxlen=None, **kwargs):
    return _sequences("reuters", num_words, 46, maxlen)


def _forda_rows():
    """FordA's layout: label (-1/1) then 500 values per row (KEX_FORDA="rows,length" sets other
    sizes: the transformer example attends over every step, too slow at 500 on a shared CPU;
    its parameter counts do not depend on the length)."""
    rng = _rng("forda")
    n, t = (int(v) for v in os.environ.get("KEX_FORDA", "200,500").split(","))
    y = rng.choice([-1.0, 1.0], n)
    freq = np.where(y > 0, 0.05, 0.15)[:, None]
    x = np.sin(np.arange(t)[None, :] * freq * 2 * np.pi + rng.random((n, 1)) * 6) + 0.3 * rng.normal(size=(n, t))
    x += 0.5 * y[:, None]  # a class-dependent level too: the transformer example's blocks
    # normalise over one feature, so its classifier sees little more than each series' mean
    return np.concatenate([y[:, None], x], axis=1)


def creditcard_csv() -> str:
    """creditcard.csv's layout: "Time", V1..V28, "Amount", "Class" (quoted), about 5% frauds."""
    rng = _rng("creditcard")
    n = 600
    cls = (rng.random(n) < 0.05).astype(int)
    feats = rng.normal(size=(n, 30)) + cls[:, None] * 1.5
    header = ",".join(['"Time"'] + [f'"V{i}"' for i in range(1, 29)] + ['"Amount"', '"Class"'])
    rows = [",".join(f"{v:.6f}" for v in f) + f',"{c}"' for f, c in zip(feats, cls)]
    return "\n".join([header] + rows) + "\n"


def nab_csv(url: str) -> str:
    """A Numenta Anomaly Benchmark file's layout (``timestamp,value``, one value every 5 minutes,
    a daily pattern), 4 days; the ``jumpsup`` file has a high stretch on its third day, high enough
    that the example's detector (which needs 287 anomalous windows in a row) finds it after two
    epochs and plots it (pandas cannot plot the empty selection it would get otherwise)."""
    rng = _rng("nab_jumpsup" if "jumpsup" in url else "nab")
    steps = 288 * 4
    t = np.arange(steps)
    value = 20.0 + 60.0 * ((t % 288) > 144) + 5 * np.sin(t * 2 * np.pi / 288) + rng.normal(0, 2, steps)
    if "jumpsup" in url:
        value[288 * 2 + 50:288 * 2 + 150] += 3000.0
    stamps = np.datetime64("2014-04-01T00:00:00") + t * np.timedelta64(5, "m")
    rows = [f"{str(s).replace('T', ' ')},{v:.6f}" for s, v in zip(stamps, value)]
    return "timestamp,value\n" + "\n".join(rows) + "\n"


def nietzsche_txt() -> str:
    rng = _rng("nietzsche")
    words = ["the", "will", "to", "power", "truth", "is", "a", "woman", "and", "philosophers", "of", "good",
             "evil", "beyond", "spirit", "free", "morality", "man", "what", "in"]
    return " ".join(rng.choice(words, 3000)) + "\n"


# File names an example fetches -> a function writing the synthetic file at the given path.
GET_FILES = {"nietzsche.txt": nietzsche_txt}
# Paths an example opens directly -> the synthetic text.
OPEN_FILES = {"/Users/fchollet/Downloads/creditcard.csv": creditcard_csv}


def install(framework, workdir: str) -> None:
    """Point ``framework`` (deepnet or keras, imported) at the offline data."""
    datasets = framework.datasets
    datasets.mnist.load_data = mnist_load_data
    datasets.fashion_mnist.load_data = fashion_mnist_load_data
    datasets.cifar10.load_data = cifar10_load_data
    datasets.cifar100.load_data = cifar100_load_data
    datasets.imdb.load_data = imdb_load_data
    datasets.imdb.get_word_index = imdb_get_word_index
    datasets.reuters.load_data = reuters_load_data

    def get_file(fname=None, origin=None, *args, **kwargs):
        name = fname or os.path.basename(str(origin))
        maker = GET_FILES.get(os.path.basename(name)) or GET_FILES.get(os.path.basename(str(origin)))
        if maker is None:
            raise OSError(f"offline runner: no synthetic file for get_file({fname!r}, {origin!r})")
        path = os.path.join(workdir, "downloads", os.path.basename(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(maker())
        return path

    framework.utils.get_file = get_file
    _no_pretrained_weights(framework.applications)
    _patch_io()


def _no_pretrained_weights(applications) -> None:
    """Pretrained ImageNet weights are data that cannot be downloaded here: architectures are
    built with ``weights=None`` (random initial weights, same parameter counts)."""
    for name in ("VGG16", "VGG19", "ResNet50", "MobileNetV2", "EfficientNetB0", "Xception"):
        real = getattr(applications, name, None)
        if real is None:
            continue

        def build(*args, _real=real, **kwargs):
            if kwargs.get("weights", "imagenet") == "imagenet":
                kwargs["weights"] = None
            return _real(*args, **kwargs)

        setattr(applications, name, build)


def _patch_io() -> None:
    real_loadtxt, real_open = np.loadtxt, builtins.open

    def loadtxt(fname, *args, **kwargs):
        if isinstance(fname, str) and fname.startswith("http") and "FordA" in fname:
            rows = _forda_rows()
            split = len(rows) * 3 // 4
            return rows[:split] if "TRAIN" in fname else rows[split:]
        return real_loadtxt(fname, *args, **kwargs)

    def open_(file, *args, **kwargs):
        if isinstance(file, str) and file in OPEN_FILES and not os.path.exists(file):
            import io

            return io.StringIO(OPEN_FILES[file]())
        return real_open(file, *args, **kwargs)

    np.loadtxt = loadtxt
    builtins.open = open_
    _patch_pandas()


def _patch_pandas() -> None:
    """``pd.read_csv`` of a Numenta Anomaly Benchmark URL reads the synthetic ``nab_csv``."""
    try:
        import pandas as pd
    except ImportError:  # the examples reading CSVs with pandas need it; the others do not
        return
    import io

    real_read_csv = pd.read_csv

    def read_csv(filepath_or_buffer, *args, **kwargs):
        if isinstance(filepath_or_buffer, str) and "numenta/NAB" in filepath_or_buffer:
            filepath_or_buffer = io.StringIO(nab_csv(filepath_or_buffer))
        return real_read_csv(filepath_or_buffer, *args, **kwargs)

    pd.read_csv = read_csv
