"""New-user bad-input probe for deepnet (issue 15): ~590 bad or unusual inputs, each classified.

Usage: .venv/bin/python benchmarks/bad_input_probe.py [--only PREFIX] [--no-cli] [--json OUT]

Each case is (id, code, names, kind):
  code   Python statements exec'd in a namespace with fixtures (dn, np, torch, L=dn.layers, X, Y,
         m() -> fresh compiled 4->3 classifier, T = a fresh empty temp folder per case).
  names  regexes; a CLEAR error message must match at least one (case-insensitive).
  kind   "err": must raise; "either": success or a clear error; "warn": error or warning naming it.
Outcomes: CLEAR, UNCLEAR (wrong type / leaked from torch or numpy / message not naming it),
SILENT (no error), HANG (timeout), GARBAGE (files left in T that the case did not ask for).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.environ.get("DEEPNET_PROBE_SRC", os.path.join(ROOT, "src"))  # another tree's src/ (a before/after run)
CASES: list[tuple[str, str, list[str], str]] = []


def case(cid, code, names, kind="err"):
    CASES.append((cid, textwrap.dedent(code).strip(), [names] if isinstance(names, str) else names,
                  kind))


# ----------------------------------------------------------------------------------------------
# A. layer constructor arguments
A = [
    ("Dense(0)", "units"), ("Dense(-3)", "units"), ("Dense(2.5)", "units"), ("Dense('10')", "units"),
    ("Dense(None)", "units"), ("Dense(True)", "units"), ("Dense(float('nan'))", "units"),
    ("Dense(10, activation='relus')", "activation|relus"), ("Dense(10, activation=5)", "activation"),
    ("Dense(10, use_bias='no')", "use_bias"), ("Dense(10, use_bias=1)", "use_bias"),
    ("Dense(10, kernel_initializer='glorot_unifrom')", "glorot_unifrom|initializer"),
    ("Dense(10, bias_initializer='zeross')", "bias_initializer|zeross"),
    ("Dense(10, kernel_regularizer='l3')", "l3|regularizer"),
    ("Dense(10, kernel_constraint='nonnegg')", "nonnegg|constraint"),
    ("Dense(10, activity_regularizer=5)", "activity_regularizer|regularizer"),
    ("Dense(10, dtype='float99')", "dtype|float99"), ("Dense(10, name=5)", "name"),
    ("Dense(10, trainable='no')", "trainable"), ("Dense(10, input_shape='x')", "input_shape"),
    ("Dense(10, foo=1)", "foo"), ("Dense(10, unit=3)", "unit"),
    ("Conv2D(0, 3)", "filters"), ("Conv2D(8, 0)", "kernel_size"), ("Conv2D(8, (3, 3, 3))", "kernel_size"),
    ("Conv2D(8, (3,))", "kernel_size"), ("Conv2D(8, '3')", "kernel_size"), ("Conv2D(8, 3, strides=0)", "strides"),
    ("Conv2D(8, 3, strides=(1, 1, 1))", "strides"), ("Conv2D(8, 3, padding='sam')", "padding|sam"),
    ("Conv2D(8, 3, padding='causal')", "padding|causal"), ("Conv2D(8, 3, data_format='NCHW')", "data_format"),
    ("Conv2D(8, 3, dilation_rate=-1)", "dilation_rate"), ("Conv2D(8, 3, groups=0)", "groups"),
    ("Conv2D(8, 3, groups=3)", "groups|filters"), ("Conv2D(8, 3, strides=2, dilation_rate=2)", "strides|dilation"),
    ("Conv2D(8, 3, activation='relu6x')", "activation|relu6x"), ("Conv2D(8.0, 3)", "filters"),
    ("Conv1D(8, (3, 3))", "kernel_size"), ("Conv1D(8, 3, padding='full')", "padding|full"),
    ("Conv2DTranspose(8, 3, strides=2, output_padding=5)", "output_padding"),
    ("DepthwiseConv2D(3, depth_multiplier=0)", "depth_multiplier"),
    ("SeparableConv2D(8, 3, depth_multiplier=-1)", "depth_multiplier"),
    ("SeparableConv1D(0, 3)", "filters"), ("DepthwiseConv1D(-3)", "kernel_size"),
    ("MaxPooling2D(0)", "pool_size"), ("MaxPooling2D((2, 2, 2))", "pool_size"),
    ("MaxPooling2D(2, strides=0)", "strides"), ("MaxPooling2D(padding='full')", "padding|full"),
    ("AveragePooling1D(pool_size=-1)", "pool_size"), ("GlobalAveragePooling2D(data_format='x')", "data_format"),
    ("GlobalMaxPooling1D(keepdims='yes')", "keepdims"),
    ("Dropout(1.5)", "rate"), ("Dropout(-0.1)", "rate"), ("Dropout(float('nan'))", "rate"),
    ("Dropout('0.5')", "rate"), ("Dropout(0.5, noise_shape=5)", "noise_shape"), ("SpatialDropout2D(2)", "rate"),
    ("GaussianNoise(-1)", "stddev"), ("GaussianDropout(-0.2)", "rate"), ("GaussianDropout(1.0)", "rate"),
    ("BatchNormalization(momentum=1.5)", "momentum"), ("BatchNormalization(epsilon=-1e-3)", "epsilon"),
    ("BatchNormalization(axis=1.5)", "axis"), ("BatchNormalization(center='no')", "center"),
    ("LayerNormalization(epsilon=-1)", "epsilon"), ("GroupNormalization(groups=0)", "groups"),
    ("UnitNormalization(axis='x')", "axis"), ("RMSNormalization(epsilon=-1)", "epsilon"),
    ("Embedding(0, 8)", "input_dim"), ("Embedding(10, 0)", "output_dim"), ("Embedding(10.5, 8)", "input_dim"),
    ("Embedding(10, 8, mask_zero='yes')", "mask_zero"),
    ("LSTM(0)", "units"), ("LSTM(8, dropout=1.2)", "dropout"), ("LSTM(8, recurrent_dropout=-0.1)", "recurrent_dropout"),
    ("LSTM(8, return_sequences='yes')", "return_sequences"), ("GRU(8, reset_after='x')", "reset_after"),
    ("SimpleRNN(-1)", "units"), ("LSTM(8, activation='tanhh')", "activation|tanhh"),
    ("LSTM(8, recurrent_initializer='orthogonall')", "orthogonall|initializer"),
    ("Bidirectional(L.Dense(3))", "layer|Dense|RNN|recurrent"), ("Bidirectional('lstm')", "layer"),
    ("Bidirectional(L.LSTM(4), merge_mode='add2')", "merge_mode"),
    ("MultiHeadAttention(num_heads=0, key_dim=8)", "num_heads"), ("MultiHeadAttention(2, key_dim=-1)", "key_dim"),
    ("MultiHeadAttention(2, 8, dropout=2)", "dropout"), ("Attention(score_mode='cosine')", "score_mode"),
    ("Attention(dropout=1.5)", "dropout"), ("AdditiveAttention(use_scale='y')", "use_scale"),
    ("Reshape((-1, -1))", "target_shape|-1"), ("Reshape('4,4')", "target_shape"), ("Reshape((0, 4))", "target_shape"),
    ("Permute((1, 1))", "dims"), ("Permute((0, 1))", "dims"), ("Permute((1, 3))", "dims"),
    ("RepeatVector(0)", "n"), ("RepeatVector('3')", "n"), ("Flatten(data_format='bad')", "data_format"),
    ("Cropping2D(-1)", "cropping"), ("Cropping2D(((1, 2, 3), (1, 1)))", "cropping"), ("ZeroPadding2D(-1)", "padding"),
    ("UpSampling2D(0)", "size"), ("UpSampling2D(2, interpolation='cubic2')", "interpolation"),
    ("Concatenate(axis='x')", "axis"), ("Activation('nonexistent')", "activation|nonexistent"),
    ("Rescaling('x')", "scale"), ("Rescaling(1 / 255, offset='a')", "offset"), ("Resizing(0, 10)", "height"),
    ("Resizing(10, 10, interpolation='nearest2')", "interpolation"), ("CenterCrop(-1, 5)", "height"),
    ("RandomFlip('diagonal')", "mode"), ("RandomRotation('a')", "factor"),
    ("RandomTranslation(1.5, 0.1)", "height_factor"),
    ("RandomContrast(-0.1)", "factor"), ("RandomBrightness(2)", "factor"), ("RandomCrop(0, 5)", "height"),
    ("Normalization(axis='x')", "axis"), ("Normalization(mean=[1, 2], variance=None)", "variance|mean"),
    ("TorchModuleWrapper('linear')", "module"),
]
for i, (expr, nm) in enumerate(A):
    case(f"A{i:03d}", f"L.{expr}", nm)

# ----------------------------------------------------------------------------------------------
# B. layer calls with wrong input rank / shape / dtype
B = [
    ("L.Conv2D(4, 3)(torch.zeros(2, 8, 8))", "rank|ndim|dimension|shape|Conv2D"),
    ("L.Conv1D(4, 3)(torch.zeros(2, 8))", "rank|ndim|dimension|shape|Conv1D"),
    ("L.LSTM(4)(torch.zeros(2, 8))", "rank|ndim|dimension|shape|LSTM"),
    ("L.MaxPooling2D()(torch.zeros(2, 8, 8))", "rank|ndim|dimension|shape|MaxPooling2D"),
    ("L.Embedding(10, 4)(torch.tensor([[1, 12]]))", "input_dim|index|range|Embedding"),
    ("L.Concatenate()([torch.zeros(2, 3, 4), torch.zeros(2, 5, 6)])", "shape|Concatenate"),
    ("L.Add()([torch.zeros(2, 3), torch.zeros(2, 4)])", "shape|Add"),
    ("L.Add()(torch.zeros(2, 3))", "list|inputs|Add"),
    ("L.Dense(3)('string')", "input|tensor|str|Dense"),
    ("L.Dense(3)(None)", "input|None|Dense"),
    ("d = L.Dense(3); d(torch.zeros(2, 4)); d(torch.zeros(2, 5))", "shape|Dense|5|4"),
    ("L.Conv2D(4, 9)(torch.zeros(1, 4, 4, 1))", "kernel|size|shape|Conv2D"),
    ("L.Reshape((5,))(torch.zeros(2, 4))", "target_shape|reshape|size|shape"),
    ("L.Dot(axes=5)([torch.zeros(2, 3), torch.zeros(2, 3)])", "axes"),
    ("L.GroupNormalization(groups=3)(torch.zeros(2, 8))", "groups"),
    ("L.Cropping2D(5)(torch.zeros(1, 6, 6, 1))", "cropping|shape"),
    ("L.MultiHeadAttention(2, 4)(torch.zeros(2, 3, 4))", "value|query|argument|MultiHeadAttention"),
    ("L.Dense(3)(np.zeros((2, 4), dtype=object))", "dtype|object|Dense"),
    ("x = dn.Input((4,)); d = L.Dense(3); d(x); d(dn.Input((5,)))", "shape|Dense|5|4"),
    ("L.Permute((2, 1))(torch.zeros(2, 3))", "dims|rank|shape|Permute"),
    ("L.Dense(3)(np.zeros((2, 4), dtype=np.complex64))", "dtype|complex|Dense"),
]
for i, (code, nm) in enumerate(B):
    case(f"B{i:03d}", code, nm)

# ----------------------------------------------------------------------------------------------
# C. model construction
C = [
    ("dn.Sequential([L.Dense(3), 'relu'])", "relu|layer|Layer"),
    ("dn.Sequential('dense')", "layers|dense"),
    ("dn.Sequential([dn.Input((4,)), L.Dense(3, name='a'), L.Dense(3, name='a')])", "name|unique|'a'|duplicate"),
    ("x = dn.Input((4,)); dn.Model(inputs=x, outputs='y')", "outputs"),
    ("x = dn.Input((4,)); dn.Model(inputs=x, outputs=[])", "outputs"),
    ("x = dn.Input((4,)); z = dn.Input((4,)); dn.Model(inputs=x, outputs=L.Dense(2)(z))", "disconnected|input|graph|outputs"),
    ("dn.Input(shape=(-1,))", "shape"), ("dn.Input(shape='4')", "shape"), ("dn.Input(shape=(4.5,))", "shape"),
    ("dn.Input(shape=(4,), batch_size=0)", "batch_size"), ("dn.Input(shape=(4,), dtype='floaty')", "dtype|floaty"),
    ("s = dn.Sequential(); s.add('x')", "layer|'x'"),
    ("s = dn.Sequential(); s.add(L.Dense(3)); s.add(dn.Input((4,)))", "Input|first"),
    ("mm = m(); mm.get_layer('nope')", "nope"), ("mm = m(); mm.get_layer(index=99)", "index|99"),
    ("dn.Model(inputs=np.zeros((2, 4)), outputs=np.zeros((2, 4)))", "inputs|Input|KerasTensor"),
    ("dn.Sequential([dn.Input((4,)), L.Dense(3)], name=5)", "name"),
    ("mm = m(); mm.set_weights([np.zeros((5, 8))])", "weight arrays|weights|shape|count|expected"),
    ("mm = m(); ws = mm.get_weights(); ws[0] = np.zeros((5, 8)); mm.set_weights(ws)", "shape|(5, 8)|weights"),
    ("s = dn.Sequential([dn.Input((4,)), L.Conv2D(3, 3)])", "rank|ndim|Conv2D|shape"),
    ("x = dn.Input((4,)); dn.Model(x, L.Add()([L.Dense(3)(x), L.Dense(4)(x)]))", "shape|Add"),
    ("dn.Sequential([dn.Input((4,)), L.Dense])", "class|instance|Dense|layer"),
    ("x = dn.Input((4,)); dn.Model(inputs=x, outputs=L.Dense(2)(x), name='a b')", "name|space"),
]
for i, (code, nm) in enumerate(C):
    case(f"C{i:03d}", code, nm, "either" if "name='a b'" in code else "err")

# ----------------------------------------------------------------------------------------------
# D. compile
D = [
    ("optimizer='adma', loss='sparse_categorical_crossentropy'", "adma|optimizer"),
    ("optimizer='adam', loss='mse2'", "mse2|loss"),
    ("optimizer='adam', loss=5", "loss"), ("optimizer=5, loss='mse'", "optimizer"),
    ("optimizer='adam', loss='mse', loss_weights={'nope': 1}", "loss_weights|nope"),
    ("optimizer='adam', loss=['mse', 'mse']", "loss|output"),
    ("optimizer='adam', loss={'wrong_name': 'mse'}", "wrong_name|loss|output"),
    ("optimizer='adam', loss='mse', run_eagerly='yes'", "run_eagerly"),
    ("optimizer='adam', loss='mse', steps_per_execution=0", "steps_per_execution"),
    ("optimizer='adam', loss='mse', jit_compile='x'", "jit_compile"),
    ("optimizer='adam', loss='mse', metrics={'nope': 'mae'}", "metrics|nope"),
    ("optimizer='adam', loss='mse', device='gpu9'", "device|gpu9"),
]
for i, (kw, nm) in enumerate(D):
    case(f"D{i:03d}", f"mm = m(compile=False); mm.compile({kw})", nm)
case("D100", "mm = m(compile=False); mm.compile(optimizer='adam', loss='mse', metrics='accuracy')",
     "metrics", "either")
case("D104", "mm = m(compile=False); mm.compile(optimizer='adam', loss='mse', metrics=['acuracy']); mm.fit(X, np.eye(3)[Y], verbose=0)", "acuracy")
case("D105", "mm = m(compile=False); mm.compile(optimizer='adam', loss='mse', metrics=[5]); mm.fit(X, np.eye(3)[Y], verbose=0)", "metric")
case("D106", "mm = m(compile=False); mm.compile(optimizer='adam', loss='mse', weighted_metrics=['nope']); mm.fit(X, np.eye(3)[Y], verbose=0)", "nope")
case("D107", "mm = m(compile=False); mm.compile(optimizer='adam', loss='mse', loss_weights=[1, 2]); mm.fit(X, np.eye(3)[Y], verbose=0)", "loss_weights")
case("D101", "mm = m(compile=False); mm.fit(X, Y, verbose=0)", "compile")
case("D102", "mm = m(compile=False); mm.evaluate(X, Y, verbose=0)", "compile")
case("D103", "mm = m(compile=False); mm.compile(optimizer=dn.optimizers.Adam(learning_rate=-1), loss='mse')",
     "learning_rate")

# ----------------------------------------------------------------------------------------------
# E. fit / evaluate / predict inputs
E = [
    ("err", "m().fit(X, Y[:20], verbose=0)", "x|y|samples|length|32|20"),
    ("err", "m().fit(X5, Y, verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().fit(X[:, 0], Y, verbose=0)", "x|shape|rank"),
    ("err", "m().fit(X[:, :, None], Y, verbose=0)", "x|shape|rank"),
    ("err", "m().fit(X, Y + 0.5, verbose=0)", "y|label|integer"),
    ("err", "m().fit(X, Y + 5, verbose=0)", "y|label|range|class"),
    ("err", "m().fit(X, Y - 4, verbose=0)", "y|label|negative|range"),
    ("err", "m().fit(X, np.eye(3)[Y], verbose=0)", "y|label|shape|one-hot|categorical"),
    ("either", "m().fit(X.astype(int), Y, verbose=0)", "x|dtype"),
    ("either", "m().fit(X > 0.5, Y, verbose=0)", "x|dtype"),
    ("either", "m().fit((X * 255).astype(np.uint8), Y, verbose=0)", "x|dtype"),
    ("either", "m().fit(X.astype(np.float16), Y, verbose=0)", "x|dtype"),
    ("either", "m().fit(X.astype(np.float64), Y, verbose=0)", "x|dtype"),
    ("err", "xo = X.astype(object); xo[0, 0] = None; m().fit(xo, Y, verbose=0)", "x|dtype|object"),
    ("err", "m().fit(X.astype(str), Y, verbose=0)", "x|dtype|str|string"),
    ("err", "m().fit(X.astype(np.complex64), Y, verbose=0)", "x|dtype|complex"),
    ("err", "xn = X.copy(); xn[3, 1] = np.nan; m().fit(xn, Y, verbose=0)", r"x|NaN|sample|\b3\b"),
    ("err", "xn = X.copy(); xn[3, 1] = np.inf; m().fit(xn, Y, verbose=0)", r"x|inf|sample|\b3\b"),
    ("err", "yn = Y.astype(float); yn[2] = np.nan; m().fit(X, yn, verbose=0)", "y|NaN|label"),
    ("err", "m().fit(X[:0], Y[:0], verbose=0)", "x|empty|sample|0"),
    ("either", "m().fit(X.tolist(), Y.tolist(), verbose=0)", "x"),
    ("err", "m().fit({'wrong': X}, Y, verbose=0)", "wrong|input|key"),
    ("err", "m().fit(None, Y, verbose=0)", "x"),
    ("err", "m().fit(X, None, verbose=0)", "y|target|label"),
    ("err", "m().fit(X, Y, validation_split=1.5, verbose=0)", "validation_split"),
    ("err", "m().fit(X, Y, validation_split=-0.1, verbose=0)", "validation_split"),
    ("err", "m().fit(X, Y, validation_split=1.0, verbose=0)", "validation_split"),
    ("err", "m().fit(gen(), validation_split=0.2, steps_per_epoch=2, verbose=0)", "validation_split"),
    ("err", "m().fit(X, Y, validation_data=(X,), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X, Y[:5]), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X5, Y), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data='x', verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X, Y, Y, Y), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X, Y + 7), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, batch_size=0, verbose=0)", "batch_size"),
    ("err", "m().fit(X, Y, batch_size=-1, verbose=0)", "batch_size"),
    ("err", "m().fit(X, Y, batch_size=2.5, verbose=0)", "batch_size"),
    ("err", "m().fit(X, Y, batch_size='32', verbose=0)", "batch_size"),
    ("err", "m().fit(X, Y, epochs=-1, verbose=0)", "epochs"),
    ("err", "m().fit(X, Y, epochs=1.5, verbose=0)", "epochs"),
    ("err", "m().fit(X, Y, epochs='2', verbose=0)", "epochs"),
    ("err", "m().fit(X, Y, epochs=2, initial_epoch=5, verbose=0)", "initial_epoch|epochs"),
    ("err", "m().fit(X, Y, verbose=5)", "verbose"),
    ("err", "m().fit(X, Y, verbose='loud')", "verbose"),
    ("err", "m().fit(X, Y, shuffle='yes', verbose=0)", "shuffle"),
    ("err", "m().fit(X, Y, class_weight={0: 1, 5: 2}, verbose=0)", "class_weight|5"),
    ("err", "m().fit(X, Y, class_weight=[1, 2, 3], verbose=0)", "class_weight"),
    ("err", "m().fit(X, Y, class_weight={0: -1}, verbose=0)", "class_weight"),
    ("err", "m().fit(X, Y, class_weight={'a': 1}, verbose=0)", "class_weight"),
    ("err", "m().fit(X, Y, sample_weight=np.ones(5), verbose=0)", "sample_weight"),
    ("err", "m().fit(X, Y, sample_weight=-np.ones(32), verbose=0)", "sample_weight"),
    ("err", "sw = np.ones(32); sw[4] = np.nan; m().fit(X, Y, sample_weight=sw, verbose=0)", "sample_weight"),
    ("err", "m().fit(X, Y, sample_weight=np.ones((32, 3)), verbose=0)", "sample_weight"),
    ("err", "m().fit(X, Y, sample_weight='x', verbose=0)", "sample_weight"),
    ("err", "m().fit(X, Y, callbacks=['early'], verbose=0)", "callbacks"),
    ("err", "m().fit(X, Y, callbacks=[None], verbose=0)", "callbacks"),
    ("either", "m().fit(X, Y, callbacks=dn.callbacks.History(), verbose=0)", "callbacks"),
    ("err", "m().fit(X, Y, steps_per_epoch=0, verbose=0)", "steps_per_epoch"),
    ("err", "m().fit(X, Y, validation_data=(X, Y), validation_steps=-1, verbose=0)", "validation_steps"),
    ("err", "m().fit(X, Y, validation_data=(X, Y), validation_freq=0, verbose=0)", "validation_freq"),
    ("err", "m().fit(X, Y, validation_batch_size=0, validation_data=(X, Y), verbose=0)", "validation_batch_size"),
    ("err", "m().predict(X5, verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().predict(X.astype(str), verbose=0)", "x|dtype|str"),
    ("err", "m().predict(None, verbose=0)", "x"),
    ("err", "m().predict(X, batch_size=0, verbose=0)", "batch_size"),
    ("err", "m().predict(X[:, :, None], verbose=0)", "x|shape|rank"),
    ("either", "m().predict(X.astype(np.int64), verbose=0)", "x|dtype"),
    ("err", "m().predict(X, steps=0, verbose=0)", "steps"),
    ("err", "m().evaluate(X, Y[:10], verbose=0)", "x|y|samples|length"),
    ("err", "m().evaluate(X, Y, batch_size=-1, verbose=0)", "batch_size"),
    ("err", "m().evaluate(X, Y, return_dict='yes', verbose=0)", "return_dict"),
    ("err", "m().evaluate(X5, Y, verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().evaluate(X, Y + 9, verbose=0)", "y|label|range"),
    ("err", "m().train_on_batch(X, Y + 5)", "y|label|range"),
    ("err", "m().test_on_batch(X, Y + 5)", "y|label|range"),
    ("err", "m().predict_on_batch(X5)", r"x|shape|\b5\b"),
    ("err", "m().train_on_batch(X5, Y)", r"x|shape|\b5\b"),
    ("err", "m().fit(loader(X5, Y), epochs=1, verbose=0)", r"x|shape|\b5\b|batch"),
    ("err", "m().fit(loader(X, Y + 5), epochs=1, verbose=0)", "y|label|range|batch"),
    ("err", "m().fit(gen_x_only(), steps_per_epoch=2, verbose=0)", "y|target|label|batch|generator"),
    ("err", "m().fit(gen_str(), steps_per_epoch=2, verbose=0)", "x|dtype|str|batch"),
    ("err", "m().fit(iter([]), steps_per_epoch=2, verbose=0)", "empty|no data|batch|x|exhausted|generator|steps"),
    ("err", "xn = X.copy(); xn[0, 0] = np.nan; m().fit(loader(xn, Y), verbose=0)", "x|NaN|batch|sample"),
    ("err", "m().fit(X, Y.reshape(4, 8), verbose=0)", "y|shape|samples"),
    ("err", "m().fit({'x': X}, Y, verbose=0)", "x|input|dict|key"),
    ("err", "m2in().fit(X, Y, verbose=0)", "x|input|2|list"),
    ("err", "m2out().fit(X, Y, verbose=0)", "y|output|2|list"),
    ("err", "m2out().fit(X, [Y, Y, Y], verbose=0)", "y|output|2|3"),
    ("err", "m().fit(X, Y, epochs=1, verbose=0, foo=1)", "foo"),
    ("err", "m().fit(torch.zeros(32, 5), torch.zeros(32, dtype=torch.long), verbose=0)", r"x|shape|\b5\b"),
    ("either", "m().fit(torch.ones(32, 4, dtype=torch.int32), torch.zeros(32, dtype=torch.long), verbose=0)", "x|dtype"),
    ("err", "m().fit(X, Y.astype(str), verbose=0)", "y|dtype|str|label"),
    ("err", "m().fit(X, np.full(32, True) if False else Y.astype(np.complex64), verbose=0)", "y|dtype|complex"),
    ("err", "m().fit(FakeFrame(X5), Y, verbose=0)", r"x|shape|\b5\b"),
    ("either", "m().fit(FakeFrame(X), Y, verbose=0)", "x"),
    ("err", "m().fit(X, Y, validation_data=loader(X5, Y), verbose=0)", r"validation_data.*shape|shape.*validation_data"),
    ("err", "m().fit(X, Y, validation_data=loader(X, Y + 5), verbose=0)", "validation_data"),
    ("err", "xn = X.copy(); xn[1, 1] = np.nan; m().fit(X, Y, validation_data=(xn, Y), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X.astype(str), Y), verbose=0)", "validation_data"),
    ("either", "m().fit(X, Y, validation_data=(X.astype(int), Y), verbose=0)", "validation_data"),
    ("err", "m().fit(X, Y, validation_data=(X, Y, np.ones(3)), verbose=0)", "validation_data|sample_weight"),
    ("err", "m().fit(X, Y, validation_data=({'wrong': X}, Y), verbose=0)", "validation_data|wrong"),
    ("err", "m().fit(X, Y, validation_data=(X, np.eye(3)[Y]), verbose=0)", "validation_data"),
    ("err", "m().evaluate(loader(X5, Y), verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().evaluate(loader(X, Y + 5), verbose=0)", "y|label|range"),
    ("err", "m().predict(loader(X5, Y), verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().predict(gen_str(), steps=1, verbose=0)", "x|dtype|str"),
    ("err", "m().fit(torch.utils.data.TensorDataset(torch.as_tensor(X5), torch.as_tensor(Y)), verbose=0)", r"x|shape|\b5\b"),
    ("err", "m().fit(loader3(X, Y, -np.ones(32)), verbose=0)", "sample_weight"),
    ("err", "m().fit(X, Y, sample_weight=np.ones(32), class_weight={0: 1.0, 1: 1.0, 2: float('nan')}, verbose=0)", "class_weight"),
    ("err", "m().fit(X, Y, class_weight={0: 1.0, 1: 1.0, 2: 'x'}, verbose=0)", "class_weight"),
    ("err", "m().fit(X, Y.astype(np.float32) + 0.25, verbose=0)", "y|label|integer"),
    ("err", "m().fit(X, Y, epochs=True, verbose=0)", "epochs"),
    ("err", "m().fit(X, Y, batch_size=np.float64(8.5), verbose=0)", "batch_size"),
    ("either", "m().fit(X, Y, batch_size=np.int64(8), verbose=0)", "batch_size"),
    ("err", "m().fit([X, X], Y, verbose=0)", "x|input|2"),
    ("err", "m().predict([[1, 2, 3]], verbose=0)", r"x|shape|\b3\b"),
    ("err", "m().predict(np.zeros((0, 4)), verbose=0)", "x|empty|0 samples"),
    ("err", "m().evaluate(X, None, verbose=0)", "y|label|target"),
    ("err", "m().train_on_batch(X, Y, sample_weight=np.ones(3))", "sample_weight"),
    ("err", "m().test_on_batch(X5, Y)", r"x|shape|\b5\b"),
    ("err", "m().fit(X, Y, verbose=0, callbacks=dn.callbacks.EarlyStopping)", "callbacks|class|instance"),
    ("err", "m().fit(X, Y, verbose=0, callbacks=[lambda logs: None])", "callbacks"),
]
for i, (kind, code, nm) in enumerate(E):
    case(f"E{i:03d}", code, nm, kind)

# ----------------------------------------------------------------------------------------------
# F. callbacks
F = [
    ("err", "dn.callbacks.EarlyStopping(patience=-1)", "patience"),
    ("err", "dn.callbacks.EarlyStopping(mode='bigger')", "mode"),
    ("err", "dn.callbacks.EarlyStopping(min_delta='x')", "min_delta"),
    ("warn", "m().fit(X, Y, epochs=2, callbacks=[dn.callbacks.EarlyStopping(monitor='val_acc')], verbose=0)",
     "val_acc.*(loss|accuracy)|monitor"),
    ("warn", "m().fit(X, Y, epochs=2, validation_split=0.25, callbacks=[dn.callbacks.EarlyStopping(monitor='val_acuracy')], verbose=0)",
     "val_acuracy"),
    ("err", "dn.callbacks.ReduceLROnPlateau(factor=1.5)", "factor"),
    ("err", "dn.callbacks.ReduceLROnPlateau(factor=0)", "factor"),
    ("err", "dn.callbacks.ReduceLROnPlateau(patience='x')", "patience"),
    ("err", "dn.callbacks.ModelCheckpoint(filepath='')", "filepath"),
    ("either", "m().fit(X, Y, callbacks=[dn.callbacks.ModelCheckpoint(T + '/nodir/sub/x.deepnet')], verbose=0)",
     "nodir|filepath"),
    ("err", "dn.callbacks.ModelCheckpoint(T + '/m.h5')", "filepath|h5|extension"),
    ("err", "dn.callbacks.ModelCheckpoint(T + '/m.deepnet', save_freq='sometimes')", "save_freq"),
    ("err", "dn.callbacks.ModelCheckpoint(T + '/m.deepnet', monitor=5)", "monitor"),
    ("err", "dn.callbacks.CSVLogger(filename=5)", "filename"),
    ("err", "dn.callbacks.LearningRateScheduler('x')", "schedule"),
    ("err", "m().fit(X, Y, callbacks=[dn.callbacks.LearningRateScheduler(lambda e: 'a')], verbose=0)",
     "schedule|learning rate|'a'"),
    ("err", "dn.callbacks.LambdaCallback(on_epoch_end=5)", "on_epoch_end"),
    ("err", "dn.callbacks.TensorBoard(log_dir=5)", "log_dir"),
    ("err", "dn.callbacks.BackupAndRestore(backup_dir='')", "backup_dir"),
    ("err", "dn.callbacks.EarlyStopping(monitor='val_loss', baseline='x')", "baseline"),
    ("err", "dn.callbacks.EarlyStopping(restore_best_weights='yes')", "restore_best_weights"),
    ("err", "dn.callbacks.ReduceLROnPlateau(min_lr=-1)", "min_lr"),
]
for i, (kind, code, nm) in enumerate(F):
    case(f"F{i:03d}", code, nm, kind)

# ----------------------------------------------------------------------------------------------
# G. optimizers and schedules
G = [
    ("Adam(learning_rate=-1)", "learning_rate"), ("Adam(learning_rate='fast')", "learning_rate"),
    ("Adam(beta_1=1.5)", "beta_1"), ("Adam(epsilon=-1)", "epsilon"), ("SGD(momentum=-0.1)", "momentum"),
    ("SGD(nesterov='yes')", "nesterov"), ("Adam(clipnorm=-1)", "clipnorm"), ("RMSprop(rho=2)", "rho"),
    ("AdamW(weight_decay=-1)", "weight_decay"), ("Adam(learning_rate=float('nan'))", "learning_rate"),
    ("Adam(clipvalue='x')", "clipvalue"), ("Adam(foo=1)", "foo"), ("Adagrad(initial_accumulator_value=-1)", "initial_accumulator_value"),
    ("Lion(beta_2=2)", "beta_2"), ("Adam(ema_momentum=2, use_ema=True)", "ema_momentum|use_ema"),
    ("get('adma')", "adma|optimizer"), ("get(5)", "optimizer|5"),
    ("schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.9)", "decay_steps"),
    ("schedules.ExponentialDecay(-0.1, 10, 0.9)", "initial_learning_rate"),
    ("schedules.ExponentialDecay(0.1, 10, -0.9)", "decay_rate"),
    ("schedules.PiecewiseConstantDecay([10, 5], [1, 2, 3])", "boundaries"),
    ("schedules.PiecewiseConstantDecay([10], [1])", "values|boundaries"),
    ("schedules.CosineDecay(0.1, decay_steps=-5)", "decay_steps"),
    ("schedules.CosineDecay(0.1, 10, alpha=2)", "alpha"),
    ("schedules.PolynomialDecay(0.1, 0, 0.01)", "decay_steps"),
    ("schedules.CosineDecayRestarts(0.1, 0)", "first_decay_steps"),
    ("schedules.InverseTimeDecay(0.1, 10, 'x')", "decay_rate"),
    ("Adam(learning_rate=dn.callbacks.History())", "learning_rate"),
]
for i, (expr, nm) in enumerate(G):
    case(f"G{i:03d}", f"dn.optimizers.{expr}", nm)

# ----------------------------------------------------------------------------------------------
# H. save / load (T is an empty folder per case; GARBAGE = files left besides the ones named)
H = [
    ("either", "m().save(T + '/nodir/m.deepnet')", "nodir|filepath|directory|folder"),
    ("either", "m().save(T + '/m.h5')", "h5|extension|filepath|.deepnet"),
    ("either", "m().save(T + '/m')", "extension|filepath|.deepnet"),
    ("err", "os.mkdir(T + '/d.deepnet'); m().save(T + '/d.deepnet')", "d.deepnet|directory|filepath"),
    ("err", "dn.load_model(T + '/missing.deepnet')", "missing.deepnet"),
    ("err", "open(T + '/x.deepnet', 'w').write('hello'); dn.load_model(T + '/x.deepnet')", "x.deepnet"),
    ("err", "p = T + '/t.deepnet'; m().save(p); b = open(p, 'rb').read(); open(p, 'wb').write(b[: len(b) // 2]); dn.load_model(p)", "t.deepnet"),
    ("err", "dn.load_model(T)", "directory|folder|" + "tmp"),
    ("err", "dn.load_model(5)", "filepath|5"),
    ("err", "import zipfile; z = zipfile.ZipFile(T + '/z.deepnet', 'w'); z.writestr('config.json', '{garbage'); z.close(); dn.load_model(T + '/z.deepnet')", "z.deepnet|config"),
    ("err", "import zipfile; z = zipfile.ZipFile(T + '/z.deepnet', 'w'); z.writestr('other.txt', 'x'); z.close(); dn.load_model(T + '/z.deepnet')", "z.deepnet|config|missing"),
    ("err", "import zipfile; z = zipfile.ZipFile(T + '/z.deepnet', 'w'); z.writestr('config.json', json.dumps({'class_name': 'os.system', 'config': {}})); z.close(); dn.load_model(T + '/z.deepnet')", "z.deepnet|os.system|class"),
    ("err", "mm = m(); p = T + '/w.weights.safetensors'; mm.save_weights(p); m2in().load_weights(p)", "w.weights|shape|weight|layer"),
    ("err", "m().save_weights(T + '/w.txt')", "w.txt|extension|filepath|weights"),
    ("err", "m().load_weights(T + '/missing.weights.safetensors')", "missing"),
    ("err", "dn.saving.model_from_json('not json')", "json"),
    ("err", "dn.saving.model_from_json(json.dumps({'class_name': 'Nope', 'config': {}}))", "Nope"),
    ("err", "open(T + '/k.keras', 'w').write('x'); dn.load_model(T + '/k.keras')", "k.keras|keras"),
    ("err", "dn.saving.export_model(m(), T + '/m.onnx', format='onnx2')", "format|onnx2"),
    ("err", "m().save(5)", "filepath|5"),
    ("err", "m().save(T + '/m.deepnet', overwrite='no')", "overwrite"),
    ("err", "p = T + '/m.deepnet'; m().save(p); dn.load_model(p, custom_objects=5)", "custom_objects"),
    ("err", "open(T + '/e.deepnet', 'w').close(); dn.load_model(T + '/e.deepnet')", "e.deepnet|empty"),
    ("err", "p = T + '/m.deepnet'; m().save(p); dn.load_model(p, compile='no')", "compile"),
    ("err", "p = T + '/big.deepnet'; rewrite(p, lambda c: c['config']['layers'].extend([c['config']['layers'][-1]] * 100000)); dn.load_model(p)", r"big\.deepnet.*(layers|limit|too many)"),
    ("err", "p = T + '/deep.deepnet'; rewrite(p, lambda c: c['config']['layers'][-1]['config'].update(units=nest(200))); dn.load_model(p)", r"deep\.deepnet"),
    ("err", "p = T + '/u.deepnet'; rewrite(p, lambda c: c['config']['layers'][-1]['config'].update(units=-3)); dn.load_model(p)", r"u\.deepnet|units"),
    ("err", "p = T + '/u.deepnet'; rewrite(p, lambda c: c['config']['layers'][-1]['config'].update(activation='os.system')); dn.load_model(p)", r"u\.deepnet|activation|os\.system"),
    ("err", "p = T + '/u.deepnet'; rewrite(p, lambda c: c['config']['layers'][-1].update(class_name='builtins.eval')); dn.load_model(p)", r"u\.deepnet|builtins\.eval"),
    ("err", "p = T + '/u.deepnet'; rewrite(p, lambda c: c['config']['layers'][-1]['config'].update(units=4)); dn.load_model(p)", r"u\.deepnet|shape|kernel"),
    ("err", "p = T + '/many.deepnet'; rewrite(p, lambda c: c['config']['layers'].extend([{'class_name': 'Activation', 'config': {'activation': 'relu'}}] * 100000)); dn.load_model(p)", r"many\.deepnet"),
    ("err", "p = T + '/many.deepnet'; rewrite(p, lambda c: c['config']['layers'].extend([{'class_name': 'Activation', 'config': {'activation': 'relu'}}] * 100000), stored=True); dn.load_model(p)", r"many\.deepnet"),
    ("err", "p = T + '/many.deepnet'; rewrite(p, lambda c: c['config']['layers'].extend([{'class_name': 'Activation', 'config': {'activation': 'relu', 'name': f'a{i}'}} for i in range(30000)]), stored=True); dn.load_model(p)", r"many\.deepnet"),
    ("err", "open(T + '/f.txt', 'w').write('x'); m().save(T + '/f.txt/m.deepnet')", r"f\.txt|m\.deepnet"),
    ("either", "m().save_weights(T + '/nodir/w.weights.safetensors')", "nodir|w.weights"),
    ("err", "mm = m(); p = T + '/w.weights.safetensors'; mm.save_weights(p); b = open(p, 'rb').read(); open(p, 'wb').write(b[:40]); mm.load_weights(p)", r"w\.weights"),
    ("err", "mm = m(); mm.load_weights(T)", "directory|folder|" + "weights"),
    ("either", "p = T + '/s.deepnet'; m().save(p); open(T + '/.s.deepnet.999999-stale.deepnet-tmp', 'wb').write(b'x' * 100); m().save(p); assert not [f for f in os.listdir(T) if f.endswith('-tmp')], os.listdir(T)", "tmp"),
]
for i, (kind, code, nm) in enumerate(H):
    case(f"H{i:03d}", code, nm, kind)

# ----------------------------------------------------------------------------------------------
# I. data set loaders
I = [  # noqa: E741 -- one letter per section, as the others
    ("err", "dn.datasets.load_csv(T + '/missing.csv')", "missing.csv"),
    ("err", "open(T + '/r.csv', 'w').write('a,b,label\\n1,2,0\\n1,2\\n'); dn.datasets.load_csv(T + '/r.csv')", r"r\.csv.*line|line.*r\.csv"),
    ("err", "open(T + '/n.csv', 'w').write('a,b,label\\n1,x,0\\n3,4,1\\n'); dn.datasets.load_csv(T + '/n.csv')", r"n\.csv|'x'"),
    ("err", "open(T + '/l.csv', 'w').write('a,b,label\\n1,2,0\\n3,4,1\\n'); dn.datasets.load_csv(T + '/l.csv', label='nope')", "nope"),
    ("err", "open(T + '/e.csv', 'w').close(); dn.datasets.load_csv(T + '/e.csv')", r"e\.csv|empty"),
    ("err", "dn.datasets.load_npz(T + '/missing.npz')", "missing.npz"),
    ("err", "np.savez(T + '/k.npz', foo=np.zeros(3)); dn.datasets.load_npz(T + '/k.npz')", "k.npz|foo|key"),
    ("err", "np.savez(T + '/k.npz', x=np.zeros((4, 2)), y=np.zeros(3)); dn.datasets.load_npz(T + '/k.npz')", "k.npz|length|samples|x|y"),
    ("err", "dn.datasets.load_image_folder(T + '/nope')", "nope"),
    ("err", "open(T + '/a.png', 'w').write('x'); dn.datasets.load_image_folder(T)", "subfolder|class|a.png"),
    ("err", "dn.datasets.get('mnsit')", "mnsit"),
    ("err", "dn.datasets.load_mnist1d(num_samples=-1)", "num_samples"),
    ("err", "open(T + '/l.csv', 'w').write('a,b,label\\n1,2,0\\n3,4,1\\n'); dn.datasets.load_csv(T + '/l.csv', test_split=1.5)", "test_split"),
    ("err", "dn.datasets.load_csv(T)", "directory|folder|csv"),
    ("err", "np.savez(T + '/k.npz', x=np.zeros((4, 2)), y=np.zeros(4)); dn.datasets.load_npz(T + '/k.npz', x_key='nope')", "nope"),
    ("err", "os.mkdir(T + '/c'); open(T + '/c/b.png', 'w').write('notpng'); dn.datasets.load_image_folder(T)", r"b\.png"),
]
for i, (kind, code, nm) in enumerate(I):
    case(f"I{i:03d}", code, nm, kind)

# ----------------------------------------------------------------------------------------------
# K. lifecycle: diagnose and plot_model
K = [
    ("either", "dn.diagnose.data(X, Y[:10])", "x|y|samples|length"),
    ("err", "dn.diagnose.data(X.astype(str), Y)", "x|dtype|str"),
    ("err", "dn.diagnose.data(None)", "x"),
    ("err", "dn.diagnose.data(X, Y, batch_size=0)", "batch_size"),
    ("err", "dn.diagnose.data(X, Y, task='regresion')", "task|regresion"),
    ("err", "dn.diagnose.data(X, Y, thresholds={'nope': 1})", "thresholds|nope"),
    ("either", "dn.diagnose.data(X, Y, validation_data=(X5, Y))", "validation_data|shape"),
    ("err", "dn.diagnose.data(X, Y, model=m(), max_indices=-1)", "max_indices"),
    ("err", "dn.diagnose.learning_curves({'loss': []})", "history|loss|empty|epoch"),
    ("err", "dn.diagnose.learning_curves('history')", "history"),
    ("err", "dn.diagnose.learning_curves({'loss': [1.0, 0.5]}, metric='acc')", "acc|metric"),
    ("err", "dn.diagnose.learning_curves({'loss': [1.0, float('nan'), 0.5]}, patience=-1)", "patience"),
    ("either", "dn.diagnose.learning_curves({'loss': [1.0, 0.5], 'val_loss': [1.0]})", "val_loss|length|epochs"),
    ("err", "dn.diagnose.gradients(m(), X5, Y)", r"x|shape|\b5\b"),
    ("err", "dn.diagnose.gradients(m(), X, Y + 5)", "y|label|range"),
    ("err", "dn.diagnose.gradients(m(), X, Y, batch_size=0)", "batch_size"),
    ("err", "dn.diagnose.gradients('model', X, Y)", "model"),
    ("err", "dn.diagnose.memory(m(), batch_size=0)", "batch_size"),
    ("err", "dn.diagnose.memory(m(), optimizer='adma')", "adma|optimizer"),
    ("err", "dn.diagnose.memory(m(), precision='float8x')", "precision|float8x"),
    ("err", "dn.diagnose.memory(m(), memory_budget='12 parsecs')", "memory_budget"),
    ("err", "dn.diagnose.parse_bytes('-5GB')", "memory_budget|-5"),
    ("err", "dn.diagnose.max_batch_size(m(), memory_budget=0)", "memory_budget"),
    ("err", "dn.diagnose.latency(m(), batch_sizes=(0,))", "batch_sizes"),
    ("err", "dn.diagnose.latency(m(), repeats=0)", "repeats"),
    ("err", "dn.diagnose.latency(m(), device='tpu')", "device|tpu"),
    ("err", "dn.diagnose.latency(dn.Sequential([L.Dense(3)]))", "input_shape|Input|built"),
    ("either", "dn.diagnose.report(T + '/nodir/sub/r.txt', model=m())", "r.txt|html|path"),
    ("warn", "dn.diagnose.report(T + '/r.html', history='x')", "history"),
    ("err", "dn.diagnose.depth_tradeoff(lambda d: m(), depths=[], data=(X, Y))", "depths"),
    ("err", "dn.diagnose.depth_tradeoff(lambda d: m(), depths=[0, 1], data=X)", "data"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.bmpx')", "bmpx|to_file|extension|format"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', rankdir='XY')", "rankdir"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', dpi=-5)", "dpi"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', show_shapes='yes')", "show_shapes"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', layout='circle')", "layout|circle"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', splines='wavy')", "splines|wavy"),
    ("err", "dn.plot_model('model', to_file=T + '/m.svg')", "model"),
    ("err", "dn.plot_model(dn.Sequential([L.Dense(3)]), to_file=T + '/m.svg')", "built|Input|build"),
    ("either", "dn.plot_model(m(), to_file=T + '/nodir/m.svg')", "nodir|to_file"),
    ("err", "os.mkdir(T + '/d.svg'); dn.plot_model(m(), to_file=T + '/d.svg')", "d.svg|directory"),
    ("err", "m().summary(line_length=-5)", "line_length"),
    ("err", "m().summary(positions=[0.5, 0.2])", "positions"),
    ("err", "m().summary(print_fn=5)", "print_fn"),
    ("err", "m().summary(show_trainable='yes')", "show_trainable"),
    ("either", "m().to_json(indent='x')", "indent"),
    ("err", "m().get_layer()", "name|index"),
    ("err", "m().get_layer(name='dense', index=0)", "name|index"),
    ("err", "dn.diagnose.memory(dn.Sequential([L.Dense(3)]))", "input_shape|Input|built"),
    ("err", "dn.diagnose.latency(m(), input_shape=(5,))", r"input_shape|shape|\b5\b"),
    ("err", "dn.diagnose.max_batch_size(m(), memory_budget='1 GBB')", "memory_budget|GBB"),
    ("either", "dn.diagnose.data(X, np.eye(3)[Y] * np.nan)", "y|NaN"),
    ("either", "dn.diagnose.data(X, np.eye(3)[Y])", "y"),
    ("err", "dn.diagnose.gradients(m(), {'wrong': X}, Y)", "x|wrong|input"),
    ("err", "dn.diagnose.gradients(m(), X, None)", "y"),
    ("err", "dn.diagnose.gradients(m(), X.astype(str), Y)", "x|dtype|str"),
    ("err", "dn.diagnose.gradients(m(), X, Y[:0])", "y|empty|samples|0"),
    ("err", "dn.diagnose.gradients(m(), X, Y, loss='mse2')", "mse2|loss"),
    ("err", "dn.diagnose.GradientMonitor(every=0)", "every"),
    ("err", "dn.diagnose.learning_curves(dn.callbacks.History())", "history|epoch|empty"),
    ("err", "dn.diagnose.learning_curves({'loss': ['a', 'b']})", "loss|number"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', show_layer_activations='x')", "show_layer_activations"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', dpi='high')", "dpi"),
    ("err", "dn.plot_model(m(), to_file=5)", "to_file"),
    ("err", "dn.plot_model(m(), to_file=T + '/m.svg', expand_nested=1)", "expand_nested"),
    ("err", "dn.diagnose.report(T + '/r.html', model='m')", "model"),
    ("either", "dn.diagnose.report(T + '/r.html', data=(X5, Y), model=m())", r"data|shape|\b5\b"),
    ("err", "dn.diagnose.depth_tradeoff(lambda d: m(), depths=[1, 2], data=(X, Y), epochs=0)", "epochs"),
    ("err", "dn.layers.Dense.from_config({'units': 'x'})", "units"),
    ("err", "dn.layers.Dense.from_config({'unitz': 3})", "unitz|units"),
    ("err", "dn.Sequential.from_config({'layers': 'x'})", "layers|config"),
]
for i, (kind, code, nm) in enumerate(K):
    case(f"K{i:03d}", code, nm, kind)


# ----------------------------------------------------------------------------------------------
# M. more of what a demanding user tries
M = [
    ("either", "dn.Input(shape=4)", "shape"),
    ("either", "L.Dense(np.int64(3)); L.Dropout(np.float32(0.5))", "units"),
    ("err", "L.Embedding(10, 4)(torch.tensor([[1, -2]]))", "index|input_dim|negative"),
    ("either", "mm = dn.Sequential([L.Dense(3, activation='softmax')]); mm.compile(optimizer='adam', loss='sparse_categorical_crossentropy'); mm.fit(X, Y, verbose=0)", "built|Input"),
    ("either", "m(compile=False).predict(X, verbose=0)", "compile"),
    ("err", "mm = m(compile=False); mm.compile(optimizer='adam', loss='categorical_crossentropy'); mm.fit(X, Y, verbose=0)", "y|label|one-hot|categorical"),
    ("err", "mm = m(compile=False); mm.compile(optimizer='adam', loss='binary_crossentropy'); mm.fit(X, Y, verbose=0)", "y|label|binary|\\[0, 1\\]"),
    ("either", "m().fit(X, Y.astype(np.float32), verbose=0)", "y"),
    ("either", "m().fit(X, Y, validation_split=0.01, verbose=0)", "validation_split"),
    ("either", "m().fit(X, Y, steps_per_epoch=100, batch_size=8, verbose=0)", "steps_per_epoch|ran out|data"),
    ("err", "mm = dn.Sequential([dn.Input((3,), dtype='int32'), L.Embedding(10, 4), L.Flatten(), L.Dense(3)]); mm.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']); mm.fit(np.full((8, 3), 12), Y[:8], verbose=0)", "input_dim|index|12"),
    ("either", "mm = dn.Sequential([dn.Input((3,), dtype='int32'), L.Embedding(10, 4), L.Flatten(), L.Dense(3)]); mm.compile(optimizer='adam', loss='sparse_categorical_crossentropy'); mm.fit(np.full((8, 3), 1.5), Y[:8], verbose=0)", "x|integer|dtype|int"),
    ("warn", "mm = m(compile=False); mm.compile(optimizer=dn.optimizers.Adam(dn.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)), loss='sparse_categorical_crossentropy'); mm.fit(X, Y, validation_split=0.25, epochs=2, callbacks=[dn.callbacks.ReduceLROnPlateau(patience=0, min_delta=1e9)], verbose=0)", "ReduceLROnPlateau|schedule|learning_rate"),
    ("err", "m().fit(X, Y, epochs=2, callbacks=[dn.callbacks.LearningRateScheduler(lambda e: -1.0)], verbose=0)", "schedule|learning rate|-1"),
    ("warn", "m().fit(X, Y, epochs=2, callbacks=[dn.callbacks.ModelCheckpoint(T + '/c.deepnet', monitor='val_acc', save_best_only=True)], verbose=0)", "val_acc"),
    ("either", "dn.callbacks.CSVLogger(T)", "filename|directory|folder"),
    ("err", "m().fit(X, Y, callbacks=[dn.callbacks.CSVLogger(T)], verbose=0)", "filename|directory|folder|Is a directory"),
    ("err", "class Custom(L.Layer):\n    def call(self, x):\n        return x\nmm = dn.Sequential([dn.Input((4,)), Custom(), L.Dense(3)]); mm.save(T + '/c.deepnet'); dn.load_model(T + '/c.deepnet')", "Custom|register"),
    ("err", "p = T + '/m.deepnet'; m().save(p); dn.load_model(p, custom_objects={'X': 5})", "custom_objects|X"),
    ("err", "open(T + '/l.csv', 'w').write('a,b,label\\n1,2,0\\n3,4,1\\n'); dn.datasets.load_csv(T + '/l.csv', label=99)", "label|99"),
    ("err", "open(T + '/l.csv', 'w').write('a;b;label\\n1;2;0\\n3;4;1\\n'); dn.datasets.load_csv(T + '/l.csv')", "label|delimiter|columns"),
    ("err", "os.mkdir(T + '/c'); dn.datasets.load_image_folder(T, image_size=(0, 10))", "image_size"),
    ("err", "os.mkdir(T + '/c'); dn.datasets.load_image_folder(T, color_mode='cmyk')", "color_mode|cmyk"),
    ("err", "np.savez(T + '/k.npz', x=np.zeros((4, 2)), y=np.zeros(4)); dn.datasets.load_npz(T + '/k.npz', test_split=-1)", "test_split"),
    ("err", "dn.datasets.load_digits(foo=1)", "foo"),
    ("err", "dn.datasets.load_mnist1d(num_samples='100')", "num_samples"),
    ("err", "mm = m(); mm.fit(X, Y, verbose=0); mm.evaluate(X, Y, sample_weight=np.ones(3), verbose=0)", "sample_weight"),
    ("either", "m().fit(X, Y, verbose=0, validation_data=(X, Y), validation_split=0.2)", "validation_data|validation_split|either|both"),
    ("either", "m().fit(X, Y, verbose=0, batch_size=1000)", "batch_size"),
    ("err", "mm = m(); mm.set_weights(mm.get_weights()[::-1])", "shape|weight"),
    ("err", "mm = m(); mm.layers[1].set_weights([np.zeros((3, 3))])", "weight|expects|shape"),
    ("err", "mm = m(); mm.get_layer(5)", "name|5|index"),
    ("err", "m().pop() if False else dn.Sequential().pop()", "empty|no layers|pop"),
    ("err", "m().fit(X, Y, epochs=2, initial_epoch=-1, verbose=0)", "initial_epoch"),
    ("err", "m().fit(gen(), epochs=1, verbose=0)", "steps_per_epoch|infinite|generator"),
    ("err", "old = os.environ.get('DEEPNET_CACHE_DIR'); os.environ['DEEPNET_CACHE_DIR'] = T\ntry:\n    dn.datasets.load_mnist()\nfinally:\n    os.environ['DEEPNET_CACHE_DIR'] = old or ''", "mnist|network|download"),
    ("err", "dn.datasets.load_mnist(path=T + '/nope')", "nope"),
    ("err", "dn.datasets.load_fashion_mnist(path=T)", "fashion|files|idx|" + "tmp"),
    ("err", "dn.datasets.get('digits', foo=1)", "foo"),
    ("err", "dn.datasets.load_cifar10(path=T + '/nope')", "nope"),
]
for i, (kind, code, nm) in enumerate(M):
    case(f"M{i:03d}", code, nm, kind)

# ----------------------------------------------------------------------------------------------
# fixtures
def make_namespace(tmp):  # noqa: C901 -- one flat list of fixtures
    import numpy as np
    import torch

    import deepnet as dn

    rng = np.random.default_rng(0)
    X = rng.random((32, 4), dtype=np.float32)
    X5 = rng.random((32, 5), dtype=np.float32)
    Y = rng.integers(0, 3, 32)
    L = dn.layers

    def m(compile=True):
        model = dn.Sequential([dn.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
        if compile:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def m2in():
        a, b = dn.Input((4,)), dn.Input((4,))
        model = dn.Model([a, b], L.Dense(3, activation="softmax")(L.Concatenate()([a, b])))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    def m2out():
        a = dn.Input((4,))
        model = dn.Model(a, [L.Dense(3, activation="softmax")(a), L.Dense(3, activation="softmax")(a)])
        model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy"] * 2)
        return model

    def loader(x, y):
        ds = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
        return torch.utils.data.DataLoader(ds, batch_size=8)

    def loader3(x, y, w):
        ds = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(w))
        return torch.utils.data.DataLoader(ds, batch_size=8)

    def gen():
        while True:
            yield X[:8], Y[:8]

    def gen_x_only():
        while True:
            yield (X[:8],)

    def gen_str():
        while True:
            yield X[:8].astype(str), Y[:8]

    def rewrite(path, edit, stored=False):
        import zipfile
        m().save(path)
        with zipfile.ZipFile(path) as z:
            members = {n: z.read(n) for n in z.namelist()}
        cfg = json.loads(members["config.json"])
        edit(cfg)
        members["config.json"] = json.dumps(cfg).encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
            for n, b in members.items():
                z.writestr(n, b)

    def nest(depth):
        v = 3
        for _ in range(depth):
            v = [v]
        return v

    class FakeFrame:  # pandas-like: __array__, shape, columns, no real pandas here
        def __init__(self, a):
            self.a = a
            self.shape = a.shape
            self.columns = [f"c{i}" for i in range(a.shape[1])]

        def __array__(self, dtype=None, copy=None):
            return self.a if dtype is None else self.a.astype(dtype)

        def __len__(self):
            return len(self.a)

        @property
        def values(self):
            return self.a

    ns = dict(dn=dn, np=np, torch=torch, L=L, X=X, X5=X5, Y=Y, m=m, m2in=m2in, m2out=m2out, loader=loader, loader3=loader3,
              gen=gen, gen_x_only=gen_x_only, gen_str=gen_str, FakeFrame=FakeFrame, rewrite=rewrite, nest=nest, os=os, json=json, T=tmp)
    return ns


LEAK_MODULES = ("/torch/", "/numpy/", "/safetensors/", "/zipfile", "/json/", "/pydantic", "/tomllib", "/_collections_abc",
                "/typing.py", "/abc.py", "/functools.py", "/builtins")
OK_TYPES = (ValueError, TypeError, OSError)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def innermost_file(tb):
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last or ""


TORCH_PATTERNS = [r"mat1 and mat2", r"can't convert np\.ndarray", r"object of type '\w+' has no len",
                  r"expected str, bytes or os\.PathLike", r"has no attribute", r"not subscriptable",
                  r"unsupported operand", r"float\(\) argument", r"int\(\) argument", r"size mismatch",
                  r"Given groups=", r"Sizes of tensors must match", r"index out of range", r"out of bounds",
                  r"must have the same dtype", r"not iterable", r"^'\w+'$"]


def name_match(n, text):
    if re.fullmatch(r"\w{1,2}", n):
        return re.search(rf"`{n}`|\b{n}=|'{n}'", text) is not None
    return re.search(n, text, re.I) is not None


def classify_exc(e, names):
    mod = type(e).__module__ or ""
    ours = mod.startswith("deepnet")
    raise_file = innermost_file(e.__traceback__)
    f"{type(e).__name__}: {e}"
    in_deepnet = "/deepnet/" in raise_file
    if isinstance(e, RuntimeError) and in_deepnet and not ours:
        pass  # a state error raised by deepnet itself (e.g. compile() before fit()) is judged on its message
    elif not (isinstance(e, OK_TYPES) or ours):
        return "UNCLEAR", f"type {type(e).__name__} ({raise_file.split('site-packages/')[-1]})"
    if "/deepnet/" not in raise_file and any(x in raise_file for x in LEAK_MODULES) and not ours:
        # raised inside torch/numpy etc. and not wrapped
        if not isinstance(e, OSError):
            return "UNCLEAR", f"leaked from {raise_file.split('site-packages/')[-1].split('/lib/python')[-1]}"
    if "/deepnet/" not in raise_file and not raise_file.startswith("<") and not isinstance(e, OSError):
        return "UNCLEAR", f"raised in {raise_file.split('site-packages/')[-1]}"
    if any(re.search(p, str(e)) for p in TORCH_PATTERNS):
        return "UNCLEAR", "internal message"
    alts = [a for n in names for a in ([n] if "(" in n else n.split("|"))]
    if not any(name_match(a, str(e)) for a in alts):
        return "UNCLEAR", "message does not name " + "/".join(names)
    return "CLEAR", ""


def run_case(cid, code, names, kind, base_tmp, timeout=60):
    tmp = tempfile.mkdtemp(prefix=cid + "_", dir=base_tmp)
    ns = make_namespace(tmp)
    start = time.time()
    outcome, detail, msg = None, "", ""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    with warnings.catch_warnings(record=True) as wrec:
        warnings.simplefilter("always")
        try:
            exec(compile(code, f"<{cid}>", "exec"), ns)
        except Timeout:
            outcome, detail = "HANG", f">{timeout}s"
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            msg = f"{type(e).__name__}: {str(e)[:400]}"
            outcome, detail = classify_exc(e, names)
            if isinstance(e, SystemExit):
                outcome, detail = "UNCLEAR", "SystemExit"
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    if outcome is None:
        warn_text = " | ".join(str(w.message) for w in wrec)
        if kind == "either":
            outcome = "CLEAR"
            detail = "worked"
        elif kind == "warn" and any(re.search(n, warn_text, re.I) for n in names):
            outcome, detail = "CLEAR", "warning"
        else:
            outcome, detail = "SILENT", "no error"
        msg = ("warnings: " + warn_text[:300]) if warn_text else ""
    # garbage: anything left in tmp that the case did not name explicitly
    left = []
    for dirpath, _dirnames, filenames in os.walk(tmp):
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), tmp)
            if rel.split("/")[-1] not in code and not rel.endswith((".deepnet", ".safetensors")):
                left.append(rel)
            elif re.search(r"\.tmp|~|\.partial|\.part$", rel) or rel.startswith("."):
                left.append(rel)
    if left and outcome not in ("HANG",):
        outcome, detail = "GARBAGE", f"left {left[:4]}"
    shutil.rmtree(tmp, ignore_errors=True)
    return dict(id=cid, code=code, kind=kind, outcome=outcome, detail=detail, msg=msg,
                seconds=round(time.time() - start, 2))


# ----------------------------------------------------------------------------------------------
# J. CLI cases (subprocess in a temp folder)
GOOD_LAYERS = '[{type = "Dense", units = 8, activation = "relu"}, {type = "Dense", units = 3}]'
GOOD = f"""seed = 0
[data]
path = "d.npz"
[model]
layers = {GOOD_LAYERS}
[compile]
optimizer = "adam"
loss = {{type = "SparseCategoricalCrossentropy", from_logits = true}}
metrics = ["accuracy"]
[fit]
epochs = 1
batch_size = 8
validation_split = 0.25
"""


def sub(old, new):
    assert old in GOOD, old
    return GOOD.replace(old, new)


J = [
    # (id, files {name: content}, argv, names)
    ("syntax", {"c.toml": "seed = \n[data"}, ["train", "c.toml"], r"c\.toml.*line|line"),
    ("unknown_key", {"c.toml": GOOD + "\n[fitt]\nepochs = 1\n"}, ["train", "c.toml"], "fitt"),
    ("epochs_str", {"c.toml": sub("epochs = 1", 'epochs = "ten"')}, ["train", "c.toml"], "epochs"),
    ("missing_data", {"c.toml": sub('"d.npz"', '"nope.npz"')}, ["train", "c.toml"], "nope.npz"),
    ("bad_set", {"c.toml": GOOD}, ["train", "c.toml", "--set", "fit.epochs"], "--set|fit.epochs|KEY=VALUE"),
    ("set_unknown", {"c.toml": GOOD}, ["train", "c.toml", "--set", "fit.epochz=2"], "epochz"),
    ("set_badtoml", {"c.toml": GOOD}, ["train", "c.toml", "--set", "fit.epochs=[1"], "fit.epochs|--set"),
    ("factory_train", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "os:system"\nargs = {command = "touch PWNED"}')},
     ["train", "c.toml"], "allow-code"),
    ("factory_check", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "os:system"\nargs = {command = "touch PWNED"}')},
     ["check", "c.toml"], "allow-code|code"),
    ("factory_summary", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "evil.py:build"'), "evil.py": "open('PWNED','w').write('x')\ndef build(): pass\n"},
     ["summary", "c.toml"], "allow-code"),
    ("factory_diag", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "evil.py:build"'), "evil.py": "open('PWNED','w').write('x')\ndef build(): pass\n"},
     ["diagnose", "c.toml"], "allow-code"),
    ("factory_plot", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "evil:build"'), "evil.py": "open('PWNED','w').write('x')\ndef build(): pass\n"},
     ["plot", "c.toml", "-o", "p.png"], "allow-code"),
    ("eval_missing", {}, ["evaluate", "nope.deepnet", "--data", "digits"], "nope.deepnet"),
    ("eval_corrupt", {"m.deepnet": "garbage"}, ["evaluate", "m.deepnet", "--data", "digits"], r"m\.deepnet"),
    ("pred_missing_in", {"@model": ""}, ["predict", "m.deepnet", "nope.npy", "-o", "p.csv"], "nope.npy"),
    ("pred_shape", {"@model": "", "@x5": ""}, ["predict", "m.deepnet", "x5.npy", "-o", "p.csv"], r"shape|\b5\b"),
    ("pred_key", {"@model": "", "@npz": ""}, ["predict", "m.deepnet", "x.npz", "--key", "nope", "-o", "p.csv"], "nope"),
    ("pred_corrupt", {"m.deepnet": "garbage", "@x4": ""}, ["predict", "m.deepnet", "x4.npy", "-o", "p.csv"], r"m\.deepnet"),
    ("pred_outdir", {"@model": "", "@x4": ""}, ["predict", "m.deepnet", "x4.npy", "-o", "nodir/p.csv"], "nodir|p.csv"),
    ("pred_outext", {"@model": "", "@x4": ""}, ["predict", "m.deepnet", "x4.npy", "-o", "p.xlsx"], "xlsx|-o|output"),
    ("summary_txt", {"a.txt": "hello"}, ["summary", "a.txt"], r"a\.txt"),
    ("epochs0", {"c.toml": GOOD}, ["train", "c.toml", "--epochs", "0"], "epochs"),
    ("batch_neg", {"c.toml": GOOD}, ["train", "c.toml", "--batch-size", "-1"], "batch"),
    ("csv_nonnum", {"c.toml": sub('"d.npz"', '"d.csv"'), "d.csv": "a,b,c,d,label\n1,2,3,x,0\n" + "1,2,3,4,1\n" * 20},
     ["train", "c.toml"], r"d\.csv"),
    ("unknown_cmd", {}, ["trian"], "trian|train"),
    ("check_missing", {}, ["check", "nope.toml"], "nope.toml"),
    ("plot_ext", {"c.toml": GOOD}, ["plot", "c.toml", "-o", "p.bmpx"], "bmpx|format|-o|extension"),
    ("export_fmt", {"@model": ""}, ["export", "m.deepnet", "--format", "onnx2"], "onnx2|format"),
    ("layer_typo", {"c.toml": sub('type = "Dense", units = 8', 'type = "Dens", units = 8')}, ["train", "c.toml"], "Dens"),
    ("layer_arg", {"c.toml": sub("units = 8", "unit = 8")}, ["train", "c.toml"], "unit"),
    ("layer_argval", {"c.toml": sub("units = 8", "units = 0")}, ["train", "c.toml"], "units"),
    ("lr_neg", {"c.toml": sub('optimizer = "adam"', 'optimizer = "adam"\nlearning_rate = -1')}, ["train", "c.toml"], "learning_rate"),
    ("loss_typo", {"c.toml": sub('type = "SparseCategoricalCrossentropy"', 'type = "SparseCategoricalCrossentropi"')}, ["train", "c.toml"], "SparseCategoricalCrossentropi"),
    ("metric_typo", {"c.toml": sub('["accuracy"]', '["acuracy"]')}, ["train", "c.toml"], "acuracy"),
    ("few_units", {"c.toml": sub("units = 3", "units = 2")}, ["train", "c.toml"], "label|units|class"),
    ("val_split", {"c.toml": sub("validation_split = 0.25", "validation_split = 2")}, ["train", "c.toml"], "validation_split"),
    ("limit0", {"c.toml": sub('path = "d.npz"', 'path = "d.npz"\nlimit = 0')}, ["train", "c.toml"], "limit"),
    ("empty_toml", {"c.toml": ""}, ["train", "c.toml"], r"c\.toml|data|model"),
    ("layers_notlist", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'layers = "Dense"')}, ["train", "c.toml"], "layers"),
    ("optim_typo", {"c.toml": sub('optimizer = "adam"', 'optimizer = "adma"')}, ["train", "c.toml"], "adma"),
    ("input_shape", {"c.toml": sub(f"layers = {GOOD_LAYERS}", f"input_shape = [7]\nlayers = {GOOD_LAYERS}")}, ["train", "c.toml"], r"input_shape|shape|\b7\b"),
    ("data_both", {"c.toml": sub('path = "d.npz"', 'path = "d.npz"\nname = "digits"')}, ["train", "c.toml"], "name|path"),
    ("dataset_typo", {"c.toml": sub('path = "d.npz"', 'name = "mnsit"')}, ["train", "c.toml"], "mnsit"),
    ("eval_split", {"@model": ""}, ["evaluate", "m.deepnet", "--data", "digits", "--split", "valid"], "split|valid"),
    ("threads0", {"c.toml": GOOD}, ["train", "c.toml", "--threads", "0"], "threads"),
    ("device_bad", {"c.toml": sub("seed = 0", 'seed = 0\ndevice = "gpu"')}, ["train", "c.toml"], "device|gpu"),
    ("npz_nokeys", {"c.toml": GOOD, "@npzbad": ""}, ["train", "c.toml"], r"d\.npz|key"),
    ("train_dir", {"c.toml/x": ""}, ["train", "c.toml"], r"c\.toml"),
    ("summary_missing", {}, ["summary", "nope.deepnet"], "nope.deepnet"),
    ("set_seed", {"c.toml": GOOD}, ["train", "c.toml", "--set", "seed=abc"], "seed"),
    ("pred_strings", {"@model": "", "xs.npy": None}, ["predict", "m.deepnet", "xs.npy", "-o", "p.csv"], r"xs\.npy|string|dtype"),
    ("pred_nan", {"@model": "", "xn.npy": None}, ["predict", "m.deepnet", "xn.npy", "-o", "p.csv"], r"xn\.npy|NaN"),
    ("eval_csv_feat", {"@model": "", "e.csv": "a,b,label\n" + "1,2,0\n3,4,1\n" * 10}, ["evaluate", "m.deepnet", "--data", "e.csv"], r"shape|e\.csv|\b2\b"),
    ("eval_name", {"@model": ""}, ["evaluate", "m.deepnet", "--data", "mnsit"], "mnsit"),
    ("factory_missing", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "nofile.py:build"')}, ["train", "c.toml", "--allow-code"], r"nofile\.py"),
    ("factory_nofunc", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "f.py:build"'), "f.py": "x = 1\n"}, ["train", "c.toml", "--allow-code"], r"build|f\.py"),
    ("factory_notmodel", {"c.toml": sub(f"layers = {GOOD_LAYERS}", 'factory = "f.py:build"'), "f.py": "def build():\n    return 5\n"}, ["train", "c.toml", "--allow-code"], r"build|model"),
    ("diag_missing", {}, ["diagnose", "nope_run"], "nope_run"),
    ("diag_empty", {"run/x": ""}, ["diagnose", "run"], r"run|history"),
    ("init_exists", {"c.toml": GOOD}, ["init", "c.toml"], r"c\.toml|--force|exists"),
    ("output_file", {"c.toml": sub("seed = 0", 'seed = 0\noutput = "c.toml"')}, ["train", "c.toml"], r"output|c\.toml"),
    ("plot_outdir", {"@model": ""}, ["plot", "m.deepnet", "-o", "nodir/p.png"], r"nodir|p\.png"),
    ("data_name_cli", {"c.toml": GOOD}, ["train", "c.toml", "--data", "mnsit"], "mnsit"),
    ("float_labels", {"c.toml": sub('"d.npz"', '"f.npz"'), "@fnpz": ""}, ["train", "c.toml"], r"label|integer|f\.npz"),
    ("nan_x", {"c.toml": sub('"d.npz"', '"n.npz"'), "@nnpz": ""}, ["train", "c.toml"], r"NaN|n\.npz|sample"),
    ("batch0_cfg", {"c.toml": sub("batch_size = 8", "batch_size = 0")}, ["train", "c.toml"], "batch_size"),
    ("es_monitor", {"c.toml": GOOD + '\n[callbacks]\nearly_stopping = {monitor = "val_acc"}\n'}, ["train", "c.toml"], "val_acc"),
    ("sched_typo", {"c.toml": sub('optimizer = "adam"', 'optimizer = "adam"\nschedule = {type = "one_cyle"}')}, ["train", "c.toml"], "one_cyle"),
    ("layers_empty", {"c.toml": sub(f"layers = {GOOD_LAYERS}", "layers = []")}, ["train", "c.toml"], "layers"),
    ("predict_csv_label", {"@model": "", "x.csv": "a,b,c,d\n1,2,3,4\n"}, ["predict", "m.deepnet", "x.csv", "--label", "nope", "-o", "p.csv"], "nope"),
]


def prepare_cli_files(d, files):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.random((40, 4), dtype=np.float32)
    y = rng.integers(0, 3, 40)
    np.savez(os.path.join(d, "d.npz"), x=x, y=y)
    for name, content in files.items():
        if name == "@model":
            import deepnet as dn
            mod = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3, activation="softmax")])
            mod.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            mod.save(os.path.join(d, "m.deepnet"))
        elif name == "@x5":
            np.save(os.path.join(d, "x5.npy"), rng.random((6, 5), dtype=np.float32))
        elif name == "@x4":
            np.save(os.path.join(d, "x4.npy"), rng.random((6, 4), dtype=np.float32))
        elif name == "@npz":
            np.savez(os.path.join(d, "x.npz"), a=rng.random((6, 4), dtype=np.float32))
        elif name == "xs.npy":
            np.save(os.path.join(d, name), np.array([["a", "b", "c", "d"]]))
        elif name == "xn.npy":
            a = rng.random((6, 4), dtype=np.float32)
            a[2, 1] = np.nan
            np.save(os.path.join(d, name), a)
        elif name == "@fnpz":
            np.savez(os.path.join(d, "f.npz"), x=x, y=rng.random(40))
        elif name == "@nnpz":
            xn = x.copy()
            xn[7, 2] = np.nan
            np.savez(os.path.join(d, "n.npz"), x=xn, y=y)
        elif name == "@npzbad":
            np.savez(os.path.join(d, "d.npz"), foo=x)
        else:
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if not name.endswith("/x"):
                with open(p, "w") as fh:
                    fh.write(content)


def run_cli(cid, files, argv, names, base_tmp, timeout=180):
    d = tempfile.mkdtemp(prefix="cli_" + cid + "_", dir=base_tmp)
    prepare_cli_files(d, files)
    before = set(os.listdir(d))
    exe = os.path.join(ROOT, ".venv/bin/deepnet")
    start = time.time()
    env = dict(os.environ, DEEPNET_CACHE_DIR=os.path.join(base_tmp, "cache"))
    try:
        p = subprocess.run([exe, *argv], cwd=d, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        shutil.rmtree(d, ignore_errors=True)
        return dict(id="J_" + cid, code="deepnet " + " ".join(argv), kind="err", outcome="HANG",
                    detail=f">{timeout}s", msg="", seconds=timeout)
    err_lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    after = set(os.listdir(d))
    new = sorted(after - before)
    msg = f"rc={p.returncode} stderr={p.stderr.strip()[-400:]!r}"
    if "PWNED" in after:
        outcome, detail = "CODE-RAN", "config code executed without opt-in"
    elif p.returncode == 2 and len(err_lines) == 1 and err_lines[0].startswith("error:") and any(
            re.search(n, err_lines[0], re.I) for n in names):
        outcome, detail = "CLEAR", ""
    elif p.returncode == 0:
        outcome, detail = "SILENT", "exit 0"
    else:
        why = []
        if p.returncode != 2:
            why.append(f"exit {p.returncode}")
        if len(err_lines) != 1:
            why.append(f"{len(err_lines)} stderr lines")
        elif not err_lines[0].startswith("error:"):
            why.append("no 'error:' prefix")
        elif not any(re.search(n, err_lines[0], re.I) for n in names):
            why.append("does not name " + "/".join(names))
        outcome, detail = "UNCLEAR", "; ".join(why)
    if new and outcome != "CODE-RAN":
        garbage = [n for n in new if n not in ("p.png",) or outcome != "CLEAR"]
        if garbage and outcome != "SILENT":
            outcome, detail = "GARBAGE", f"left {garbage}; " + detail
    shutil.rmtree(d, ignore_errors=True)
    return dict(id="J_" + cid, code="deepnet " + " ".join(argv) + "   files=" + ",".join(files),
                kind="err", outcome=outcome, detail=detail, msg=msg, seconds=round(time.time() - start, 1))


def main():
    args = sys.argv[1:]
    only = args[args.index("--only") + 1] if "--only" in args else None
    out_json = args[args.index("--json") + 1] if "--json" in args else os.path.join(tempfile.gettempdir(), "bad_input_probe.json")
    os.chdir(ROOT)
    sys.path.insert(0, SRC)
    os.environ["PYTHONPATH"] = SRC  # the CLI subprocesses import the same tree
    base_tmp = tempfile.mkdtemp(prefix="p1probe_")
    results = []
    os.environ.setdefault("DEEPNET_CACHE_DIR", os.path.join(base_tmp, "cache"))
    import torch
    torch.set_num_threads(1)
    for cid, code, names, kind in CASES:
        if only and not cid.startswith(only):
            continue
        r = run_case(cid, code, names, kind, base_tmp)
        results.append(r)
        if r["outcome"] != "CLEAR":
            print(f"{r['id']:6s} {r['outcome']:8s} {r['code'][:90]!s:90s} | {r['detail']} | {r['msg'][:200]}",
                  flush=True)
    if "--no-cli" not in args and (not only or only.startswith("J")):
        for cid, files, argv, names in J:
            if only and not ("J_" + cid).startswith(only):
                continue
            r = run_cli(cid, files, argv, names, base_tmp)
            results.append(r)
            if r["outcome"] != "CLEAR":
                print(f"{r['id']:18s} {r['outcome']:8s} {r['code'][:90]!s:90s} | {r['detail']} | {r['msg'][:300]}",
                      flush=True)
    shutil.rmtree(base_tmp, ignore_errors=True)
    n = len(results)
    clear = sum(r["outcome"] == "CLEAR" for r in results)
    counts = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    print(f"\nTOTAL {n}  CLEAR {clear} ({100 * clear / max(n, 1):.1f}%)  {counts}")
    with open(out_json, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
