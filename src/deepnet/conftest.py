"""Doctest set-up for the examples in docstrings: Agg plots, one thread, fresh names, fixed seed,
and a temporary working directory per example."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

collect_ignore = ["__main__.py"]

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fresh_doctest_state(doctest_namespace, tmp_path, monkeypatch):
    """Every docstring example starts from fresh layer names and seed 0, with ``dn``, ``np`` and
    ``torch``, in an empty temporary working directory (examples may write relative paths)."""
    import numpy as np

    import deepnet as dn
    from deepnet.utils import clear_session, set_random_seed

    clear_session()
    set_random_seed(0)
    doctest_namespace["dn"] = dn
    doctest_namespace["np"] = np
    doctest_namespace["torch"] = torch
    monkeypatch.chdir(tmp_path)
    yield
