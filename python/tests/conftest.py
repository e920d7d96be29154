"""Shared fixtures: the repository, the sprig binary beside the library, Fashion-MNIST."""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def sprig_binary():
    """The CLI built with the library under test (same build folder)."""
    library = os.environ.get("SPRIG_LIBRARY", "")
    for folder in ([os.path.dirname(library)] if library else []) + [os.path.join(ROOT, ".build-test/release"),
                                                                     os.path.join(ROOT, ".build/release")]:
        path = os.path.join(folder, "sprig")
        if os.path.exists(path):
            return path
    pytest.fail("the sprig binary was not found beside the library (build the package first)")


@pytest.fixture(scope="session")
def fashion():
    import sprig
    return sprig.datasets.fashion_mnist()
