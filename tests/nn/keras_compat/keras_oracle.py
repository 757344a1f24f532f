"""Keras 3 as an oracle for the tests in this folder, when it is installed (any backend; torch
when neither TensorFlow nor JAX is). A test module makes its ``keras`` fixture from ``load_keras``,
which skips the test without Keras. (Not a
conftest.py: the other test folders import helpers from theirs by that module name.)"""

from __future__ import annotations

import importlib.util
import os

import pytest


def load_keras():
    if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("jax") is None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
    except ImportError as exc:  # not installed (or broken): these comparisons are optional
        pytest.skip(f"keras is not importable: {exc}")
    if not hasattr(keras, "layers"):   # a stray namespace package, not Keras
        pytest.skip("keras is not installed")
    return keras
