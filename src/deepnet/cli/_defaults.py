"""The built-in experiment: what ``deepnet train`` runs without a config file, and the
commented example that ``deepnet init`` writes (the same text)."""

from __future__ import annotations

__all__ = ["DEFAULT_CONFIG_TOML", "DEFAULT_CONFIG_NAME"]

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
