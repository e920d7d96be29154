"""Data sets read from their files, as `sprig train --dataset …` reads them: uint8 features
(pixels, flattened) and int32 labels, ((x_train, y_train), (x_test, y_test))."""

import gzip
import os

import numpy as np

from ._library import SprigError

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"   # the Debian package dataset-fashion-mnist
FASHION_MNIST_HINT = "apt-get install dataset-fashion-mnist"
# No Debian package installs MNIST or CIFAR-10 (`apt-cache search mnist` finds only
# dataset-fashion-mnist): as `sprig train` does, they are looked for in data_home().
MNIST_URL = "https://yann.lecun.com/exdb/mnist/ (or its mirror https://ossci-datasets.s3.amazonaws.com/mnist/)"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"


def data_home():
    """Where the data sets that no package installs are looked for, as `sprig train` looks:
    $SPRIG_DATA, else $XDG_DATA_HOME/sprig, else ~/.local/share/sprig (never the current directory)."""
    if os.environ.get("SPRIG_DATA"):
        return os.environ["SPRIG_DATA"]
    if os.environ.get("XDG_DATA_HOME"):
        return os.path.join(os.environ["XDG_DATA_HOME"], "sprig")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "sprig")


def _mnist_hint(directory):
    return (f"put MNIST's four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            f"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, from {MNIST_URL}) in {directory}, or give "
            f"sprig.datasets.mnist(path=DIRECTORY); no Debian package installs MNIST")


def _cifar10_hint(directory):
    parent = os.path.dirname(os.path.normpath(directory)) or "."
    return (f"get CIFAR-10's binary version: mkdir -p {parent} && curl -L {CIFAR10_URL} | tar xz -C {parent} "
            f"(it unpacks cifar-10-batches-bin), or give sprig.datasets.cifar10(path=DIRECTORY)")
CIFAR10_TRAIN = [f"data_batch_{k}.bin" for k in range(1, 6)]
CIFAR10_TEST = ["test_batch.bin"]
CIFAR10_RECORD = 1 + 3072   # a label byte, then the 32 × 32 red plane, green plane, blue plane (row-major)


def _read(path):
    """The bytes of a file, gunzipped when it is gzip-compressed (by its magic number)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _idx(path):
    """An IDX file of unsigned bytes (MNIST's format) as a NumPy array of its shape."""
    data = _read(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SprigError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex() or 'missing'})")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    if len(data) != 4 + 4 * dims + int(np.prod(shape, dtype=np.int64)):
        raise SprigError(f"{path}: {len(data) - 4 - 4 * dims} bytes of values, but the header says {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _find(directory, stem, hint):
    for name in (stem, stem + ".gz"):   # the plain file wins, as the library's loader decides
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{directory}: no {stem} or {stem}.gz ({hint})")


def _idx_pairs(directory, hint):
    def pair(prefix):
        images_path = _find(directory, f"{prefix}-images-idx3-ubyte", hint)
        labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte", hint)
        images, labels = _idx(images_path), _idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1:
            raise SprigError(f"{images_path}, {labels_path}: expected images × rows × columns and labels, "
                             f"not shapes {images.shape} and {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise SprigError(f"{labels_path} has {labels.shape[0]} labels but {images_path} has {images.shape[0]} images")
        if labels.size and labels.max() > 9:
            raise SprigError(f"{labels_path}: label {labels.max()} is out of range 0...9")
        return images.reshape(images.shape[0], -1), labels.astype(np.int32)
    return pair("train"), pair("t10k")


def fashion_mnist(directory=FASHION_MNIST):
    """(x_train, y_train), (x_test, y_test): uint8 images flattened to 784 features (row-major),
    int32 labels, as `sprig train --dataset fashion-mnist` reads them."""
    return _idx_pairs(directory, FASHION_MNIST_HINT)


def mnist(path=None):
    """MNIST from its four IDX files (plain or .gz) in the directory `path`, as
    `sprig train --dataset mnist --data-dir PATH` reads them: ((x_train, y_train), (x_test,
    y_test)), uint8 images flattened to 784 features (row-major), int32 labels. Without `path`,
    data_home()/mnist, where `sprig train --dataset mnist` looks. No Debian package installs
    MNIST: FileNotFoundError says where to download the files when they are missing."""
    path = os.path.expanduser(os.fspath(path)) if path is not None else os.path.join(data_home(), "mnist")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: MNIST data directory not found: {_mnist_hint(path)}")
    return _idx_pairs(path, _mnist_hint(path))


def cifar10(path=None):
    """CIFAR-10 from its binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin) in
    the directory `path` or its cifar-10-batches-bin subdirectory (the unpacked archive), as
    `sprig train --dataset cifar10 --data-dir PATH` reads them: ((x_train, y_train), (x_test,
    y_test)) with x uint8 of shape (n, 3072) in the files' channel-major order (the 32 × 32 red
    plane, then green, then blue, each row-major: `x.reshape(-1, 3, 32, 32)` gives the images),
    y int32 labels 0 … 9. Without `path`, data_home()/cifar-10-batches-bin, where
    `sprig train --dataset cifar10` looks. FileNotFoundError names a missing file and says how
    to get the data."""
    path = os.path.expanduser(os.fspath(path)) if path is not None else os.path.join(data_home(), "cifar-10-batches-bin")
    hint = _cifar10_hint(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: CIFAR-10 data directory not found: {hint}")
    candidates = [folder for folder in (path, os.path.join(path, "cifar-10-batches-bin")) if os.path.isdir(folder)]
    missing = [[name for name in CIFAR10_TRAIN + CIFAR10_TEST if not os.path.exists(os.path.join(folder, name))]
               for folder in candidates]
    best = min(range(len(candidates)), key=lambda i: len(missing[i]))
    folder = candidates[best]
    if missing[best]:
        raise FileNotFoundError(f"{folder}: missing CIFAR-10 file(s): {', '.join(missing[best])} (expected "
                                f"data_batch_1.bin … data_batch_5.bin and test_batch.bin here or in a "
                                f"cifar-10-batches-bin subdirectory; {hint})")

    def split(names):
        records = []
        for name in names:
            file = os.path.join(folder, name)
            data = _read(file)
            if not data or len(data) % CIFAR10_RECORD:
                raise SprigError(f"{file}: size {len(data)} bytes is not a positive multiple of the {CIFAR10_RECORD}-byte "
                                 f"CIFAR-10 record (1 label + 3072 pixels)")
            table = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR10_RECORD)
            if table[:, 0].max() > 9:
                record = int(np.argmax(table[:, 0] > 9))
                raise SprigError(f"{file}: record {record} has label {table[record, 0]}, expected 0...9")
            records.append(table)
        table = np.concatenate(records)
        return np.ascontiguousarray(table[:, 1:]), table[:, 0].astype(np.int32)

    return split(CIFAR10_TRAIN), split(CIFAR10_TEST)
