import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

# Tests use tiny tensors: one thread avoids thread-pool contention on shared 2-core machines.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh automatic layer names and a fixed seed."""
    from deepnet.utils import clear_session, set_random_seed

    clear_session()
    set_random_seed(0)
    yield
