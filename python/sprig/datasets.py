"""Data sets from the files Debian packages install."""

import gzip
import os

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def _idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _find(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{directory}: no {stem} or {stem}.gz (apt-get install dataset-fashion-mnist)")


def fashion_mnist(directory=FASHION_MNIST):
    """(x_train, y_train), (x_test, y_test): uint8 images flattened to 784 features (row-major),
    int32 labels, as `sprig train --dataset fashion-mnist` reads them."""
    def pair(prefix):
        images = _idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
        labels = _idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
        return images.reshape(images.shape[0], -1), labels.astype(np.int32)
    return pair("train"), pair("t10k")
