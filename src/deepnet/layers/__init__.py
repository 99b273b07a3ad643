"""Layers with Keras 3 names, arguments and defaults (channels-last by default).

Every layer is a ``torch.nn.Module``; see ``docs/layers.md`` for the catalogue.
"""

from ..utils.registry import register_builtin
from ._adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from ._augment_color import (
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from ._augment_geometric import (
    RandomElasticTransform,
    RandomErasing,
    RandomGaussianBlur,
    RandomPerspective,
    RandomShear,
)
from ._augment_histogram import (
    AutoContrast,
    ContrastLimitedAdaptiveHistogramEqualization,
    Equalization,
)
from ._augment_mix import AugMix, CutMix, MaxNumBoundingBoxes, MixUp, RandAugment
from ._conv3d import Conv3D, Conv3DTranspose
from ._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ._generic_rnn import RNN
from ._gqa import GroupedQueryAttention
from ._operation import Operation  # installs the symbolic handler of deepnet.ops
from ._rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._serialization import deserialize, serialize
from ._volumes import Cropping3D, SpatialDropout3D, UpSampling3D, ZeroPadding3D
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .aliases import *  # noqa: F403  (Keras' alternative names: MaxPool2D, Convolution2D...)
from .aliases import __all__ as _aliases
from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .audio import MelSpectrogram, STFTSpectrogram
from .augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRoll1D,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from .base import Input, InputLayer, KerasTensor, Layer, TorchModuleWrapper
from .categorical import CategoryEncoding, Discretization, HashedCrossing, Hashing
from .convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from .core import Activation, Dense, Flatten
from .core_extras import ActivityRegularization, AlphaDropout, Identity, Lambda, Masking
from .einsum_dense import EinsumDense
from .embedding import Embedding
from .functional import add, average, concatenate, dot, maximum, minimum, multiply, subtract
from .input_spec import InputSpec
from .lookup import IntegerLookup, StringLookup
from .merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from .pipeline import Pipeline
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .regularization import (
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from .reversible_embedding import ReversibleEmbedding
from .text_vectorization import TextVectorization
from .wrappers import SpectralNormalization, TimeDistributed, Wrapper

__all__ = [
    "Activation", "Add", "AdditiveAttention", "Attention", "Average", "BatchNormalization", "Bidirectional",
    "Concatenate", "Cropping1D", "Cropping2D", "Dense", "Dot", "Dropout", "Embedding", "Flatten", "GRU",
    "GaussianDropout", "GaussianNoise", "GroupNormalization", "Input", "InputLayer", "KerasTensor", "LSTM",
    "Layer", "LayerNormalization", "Maximum", "Minimum", "MultiHeadAttention", "Multiply", "Permute",
    "RMSNormalization", "RepeatVector", "Reshape", "SimpleRNN", "SpatialDropout1D", "SpatialDropout2D",
    "Subtract", "TorchModuleWrapper", "UnitNormalization", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
    "ZeroPadding2D", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRoll1D",
    "RandomRotation", "RandomTranslation", "RandomZoom", "CenterCrop", "Normalization", "Rescaling", "Resizing",
    "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup", "Pipeline", "StringLookup",
    "TextVectorization",
]
__all__ += [  # 3-D layers and adaptive pooling
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AveragePooling3D", "Conv3D", "Conv3DTranspose", "Cropping3D",
    "GlobalAveragePooling3D", "GlobalMaxPooling3D", "MaxPooling3D", "SpatialDropout3D", "UpSampling3D",
    "ZeroPadding3D",
    "GRUCell", "LSTMCell", "RNN", "SimpleRNNCell", "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
]
__all__ += [  # Keras breadth A: activations, wrappers, core extras, merge functions, aliases
    "ActivityRegularization", "AlphaDropout", "ELU", "Identity", "Lambda", "LeakyReLU", "Masking", "PReLU", "ReLU",
    "Softmax", "SpectralNormalization", "TimeDistributed", "Wrapper", "add", "average", "concatenate", "dot",
    "EinsumDense", "ReversibleEmbedding", "GroupedQueryAttention", "InputSpec",
    "maximum", "minimum", "multiply", "subtract", *_aliases,
]

__all__ += [  # Keras breadth D: image augmentation (colour, histogram, geometric, mixing)
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Equalization",
    "MaxNumBoundingBoxes", "MixUp", "RandAugment", "RandomColorDegeneration", "RandomColorJitter",
    "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomSaturation", "RandomSharpness", "RandomShear", "Solarization",
    "MelSpectrogram", "STFTSpectrogram",
]
__all__ += ["deserialize", "serialize"]  # Keras' keras.layers.serialize/deserialize

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, Layer):
        register_builtin(_obj)
register_builtin(Operation)  # saved graphs name it; not in __all__: created by deepnet.ops, not by users
