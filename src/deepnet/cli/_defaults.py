"""The built-in experiment: what ``deepnet train`` runs without a config file, and the
commented example that ``deepnet init`` writes (the same text)."""

from __future__ import annotations

__all__ = ["DEFAULT_CONFIG_NAME", "DEFAULT_CONFIG_TOML", "TUNE_CONFIG_TOML"]

DEFAULT_CONFIG_NAME = "<built-in default config>"

DEFAULT_CONFIG_TOML = '''\
# deepnet experiment config: train it with `deepnet train deepnet.toml`.
# Every field is documented in docs/cli.md. Paths are relative to this file's folder,
# except `output`, which is relative to the folder you run deepnet from.

seed = 0                  # seeds Python, NumPy and PyTorch; also the validation split
output = "runs"           # each run writes a new folder runs/<timestamp>/
# name = "baseline"       # optional: appended to the run folder name
# threads = 1             # optional: torch.set_num_threads (default: PyTorch's choice)
# device = "auto"         # "auto" (CUDA, else MPS, else CPU), "cpu", "cuda" or "mps"

[data]
name = "mnist1d"          # built-in: mnist1d, digits, mnist, fashion_mnist, cifar10
# Or your own data instead of `name` (one of the two):
# path = "data.csv"       # .npz, .csv, a folder of IDX files or a folder of class subfolders
# label = "label"         # CSV: the label column (name or index)
# image_size = [64, 64]   # image folder: every image is resized to (height, width)
# test_split = 0.2        # files without a test split: fraction held out for testing
# options = {}            # extra keyword arguments of the loader (e.g. {num_samples = 10000})

[model]
# input_shape = [40]      # optional: taken from the data when left out
# A stack of layers: Keras class names and arguments (or `factory = "module:function"`).
layers = [
    {type = "Reshape", target_shape = [-1, 1]},  # (40,) -> (40, 1): steps x channels
    {type = "Conv1D", filters = 32, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "Conv1D", filters = 32, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "MaxPooling1D", pool_size = 2},
    {type = "Conv1D", filters = 64, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "Conv1D", filters = 64, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "MaxPooling1D", pool_size = 2},
    {type = "Conv1D", filters = 128, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "Conv1D", filters = 128, kernel_size = 5, padding = "same", use_bias = false},
    {type = "BatchNormalization", momentum = 0.9},
    {type = "Activation", activation = "relu"},
    {type = "GlobalAveragePooling1D"},
    {type = "Dense", units = 10},
]

[compile]
optimizer = {type = "AdamW", weight_decay = 0.01}   # or a name: "adam", "sgd", ...
learning_rate = 0.005     # the peak learning rate of the schedule
schedule = {type = "one_cycle", warmup = 0.1}      # linear warmup, then cosine decay to 0
loss = {type = "SparseCategoricalCrossentropy", from_logits = true, label_smoothing = 0.1}
metrics = ["accuracy"]

[fit]
epochs = 30
batch_size = 128
validation_split = 0.1    # fraction of the training data held out (at random) for validation
shuffle = true

[callbacks]
early_stopping = {monitor = "val_loss", patience = 10, restore_best_weights = true}
# reduce_lr = {monitor = "val_loss", factor = 0.5, patience = 3}
terminate_on_nan = true
'''

TUNE_CONFIG_TOML = '''\
# deepnet tuning config: search it with `deepnet tune tune.toml`; every trial trains this
# experiment with the values it draws from the [tune] ranges substituted.
# Train the config as written with `deepnet train tune.toml`. Fields: docs/cli.md, docs/tuning.md.

seed = 0                  # every trial trains with this seed (weights, shuffling, validation split)
output = "runs"

[data]
name = "mnist1d"          # 4000 train / 1000 test signals of 40 values, 10 classes
# limit = 1000            # use only the first N training samples (a quicker search)

[model]
# An MLP. The hidden block - the first Dense layer and the layers after it up to the next
# Dense layer (here Dense + Dropout) - is what the `layers` hyperparameter repeats.
layers = [
    {type = "Dense", units = 256, activation = "relu"},
    {type = "Dropout", rate = 0.1},
    {type = "Dense", units = 10},
]

[compile]
optimizer = "adam"
learning_rate = 0.001
loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
metrics = ["accuracy"]

[fit]
epochs = 20               # the most epochs a trial trains; the pruner may stop it earlier
batch_size = 128
validation_split = 0.1    # trials are compared on this held-out part of the training data

[callbacks]
terminate_on_nan = true

[tune]
trials = 30               # counted across runs: running the command again resumes the search
# timeout = 1200          # optional: no new trial starts after this many seconds
objective = "val_accuracy"  # any logged metric; direction inferred (losses minimised)
sampler = "tpe"           # tpe, random, gp, cmaes, grid
pruner = "hyperband"      # hyperband, asha, median, none (stops hopeless trials early)
workers = 1               # processes on this host sharing the search
# directory = "tuning/tune"   # default: tuning/<config file name>
# block = [0, 2]          # the slice of [model] layers that `layers` repeats (end excluded)

# Search ranges: {int = [min, max]}, {float = [min, max]} (options: log = true, step = ...),
# {choice = [...]}, {bool = true}. The eight ready-made hyperparameters:
learning_rate = {float = [1e-4, 1e-1], log = true}    # compile.learning_rate
batch_size = {choice = [32, 64, 128]}                 # fit.batch_size
layers = {int = [1, 3]}                               # copies of the hidden block
units = {int = [32, 512], log = true}                 # units_0, units_1, ...: one per hidden Dense layer
l2 = {float = [1e-6, 1e-2], log = true}               # L2 kernel regularizer of every layer
dropout = {float = [0.0, 0.5]}                        # rate of every Dropout layer
activation = {choice = ["relu", "gelu", "tanh"]}      # activation of the hidden layers
optimizer = {choice = ["adam", "adamw", "sgd"]}       # compile.optimizer
# Any other config key by its dotted path (layer indices as written above), e.g.
# "model.layers.0.use_bias" = {bool = true}
# "fit.epochs" = {int = [10, 30]}
'''
