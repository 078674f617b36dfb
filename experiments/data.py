"""Datasets of Section 4.C as whole arrays: FashionMNIST (IDX files) and CIFAR10 (python pickles).

Nothing downloads.  FashionMNIST is looked up, in order, in ``--data-root``, a torchvision-style
``<root>/FashionMNIST/raw``, and ``/usr/share/datasets/fashion-mnist`` (Debian package
``dataset-fashion-mnist``); each IDX file may be gzip-compressed or raw.  CIFAR10 is read from the
standard ``cifar-10-batches-py`` folder with an unpickler that can only rebuild the plain types
those files hold (a crafted pickle cannot run code).
"""
from __future__ import annotations

import gzip
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpm_verify.errors import DataNotFoundError, LPMInputError, require

DATASETS = ("fashion-mnist", "cifar10")
FASHION_MNIST_DEFAULT = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
FASHION_MNIST_HOW = ("install the Debian package: `apt-get install dataset-fashion-mnist` (files go to "
                     f"{FASHION_MNIST_DEFAULT}), or pass --data-root DIR holding the four IDX files "
                     "(.gz or raw) or DIR/FashionMNIST/raw")
CIFAR10_HOW = ("download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html on a "
               "machine with internet, unpack it, and pass --data-root DIR (DIR or DIR/cifar-10-batches-py "
               "must hold data_batch_1..5 and test_batch)")


@dataclass(frozen=True)
class ImageData:
    """A labelled image dataset held as arrays: ``X_*  # (N, C, H, W) uint8``, ``y_*  # (N,) int64``."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def num_classes(self) -> int:
        return int(self.y_train.max()) + 1


# -- IDX (FashionMNIST) ------------------------------------------------------------------------
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse the IDX format (LeCun's MNIST layout): magic ``0 0 dtype ndim``, big-endian dims, data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise LPMInputError(f"{name}: not an IDX file (bad magic number {raw[:4]!r})")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    count = int(np.prod(shape)) if shape else 1
    if len(raw) != header + count * dtype.itemsize:
        raise LPMInputError(f"{name}: IDX header says shape {shape} but the file holds "
                            f"{len(raw) - header} data bytes (truncated or corrupt)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file, gzip-compressed (by its magic bytes, whatever its name) or raw."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw, str(path))


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def fashion_mnist_folders(data_root: str | Path | None) -> list[Path]:
    """Folders searched for the IDX files, in order."""
    roots = [] if data_root is None else [Path(data_root), Path(data_root) / "FashionMNIST" / "raw"]
    return roots + [FASHION_MNIST_DEFAULT]


def load_fashion_mnist(data_root: str | Path | None = None) -> ImageData:
    """FashionMNIST: 60000 train / 10000 test images ``# (N, 1, 28, 28) uint8``, labels 0..9."""
    folders = fashion_mnist_folders(data_root)
    if data_root is not None:
        folders = folders[:2]  # an explicit root is never silently replaced by the default
    missing: list[str] = []
    for folder in folders:
        found = {key: _find_idx(folder, stem) for key, stem in FASHION_MNIST_FILES.items()}
        if all(found.values()):
            arrays = {key: read_idx(path) for key, path in found.items()}  # type: ignore[arg-type]
            return ImageData("fashion-mnist",
                             arrays["train_images"][:, None], arrays["train_labels"].astype(np.int64),
                             arrays["test_images"][:, None], arrays["test_labels"].astype(np.int64),
                             source=str(folder))
        missing += [f"{folder / stem}[.gz]" for key, stem in FASHION_MNIST_FILES.items() if not found[key]]
    raise DataNotFoundError(f"FashionMNIST not found: missing {', '.join(missing)}. To get it, {FASHION_MNIST_HOW}")


# -- CIFAR10 pickles ---------------------------------------------------------------------------
def _numpy_reconstruct():  # the function numpy pickles ndarrays with (numpy 1: numpy.core, 2: numpy._core)
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return _reconstruct


def _plain_dtype(*args, **kwargs) -> np.dtype:
    """``numpy.dtype`` restricted to dtypes without Python objects inside."""
    dt = np.dtype(*args, **kwargs)
    if dt.hasobject:
        raise pickle.UnpicklingError("refused: a numpy object dtype inside a CIFAR10 batch file")
    return dt


# The only globals a CIFAR10 batch file references: ndarray reconstruction.  Everything else in
# those files (dict, list, bytes/str, int) is built by pickle opcodes without any global lookup.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only numpy's ndarray-reconstruction globals; any other raises."""

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle API
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name}: a CIFAR10 batch file only holds dicts, "
                "lists, bytes, ints and uint8 numpy arrays") from None


def restricted_load(raw: bytes) -> object:
    """Unpickle ``raw`` (Python 2 files: bytes keys) with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR10 batch: images ``# (n, 3, 32, 32) uint8`` and labels ``# (n,) int64``."""
    obj = restricted_load(path.read_bytes())
    if not isinstance(obj, dict):
        raise LPMInputError(f"{path}: expected a dict, got {type(obj).__name__}")
    batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32):
        raise LPMInputError(f"{path}: 'data' must be a uint8 array (n, 3072); got "
                            f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}")
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (data.shape[0],) or y.min(initial=0) < 0 or y.max(initial=0) > 9:
        raise LPMInputError(f"{path}: 'labels' must be {data.shape[0]} integers in 0..9")
    return data.reshape(-1, 3, 32, 32), y


def load_cifar10(data_root: str | Path | None) -> ImageData:
    """CIFAR10 from ``data_root`` or ``data_root/cifar-10-batches-py``."""
    if data_root is None:
        raise DataNotFoundError(f"CIFAR10 needs --data-root (nothing is downloaded). To get it, {CIFAR10_HOW}")
    root = Path(data_root)
    names = CIFAR10_TRAIN + (CIFAR10_TEST,)
    missing: list[str] = []
    for folder in (root, root / "cifar-10-batches-py"):
        absent = [str(folder / n) for n in names if not (folder / n).is_file()]
        if not absent:
            train = [read_cifar_batch(folder / n) for n in CIFAR10_TRAIN]
            X_test, y_test = read_cifar_batch(folder / CIFAR10_TEST)
            return ImageData("cifar10", np.concatenate([x for x, _ in train]),
                             np.concatenate([y for _, y in train]), X_test, y_test, source=str(folder))
        missing += absent
    raise DataNotFoundError(f"CIFAR10 not found: missing {', '.join(missing)}. To get it, {CIFAR10_HOW}")


def load_dataset(name: str, data_root: str | Path | None = None) -> ImageData:
    """Load ``fashion-mnist`` or ``cifar10`` as whole uint8 arrays."""
    require(name in DATASETS, "dataset", f"one of {DATASETS}", name)
    return load_fashion_mnist(data_root) if name == "fashion-mnist" else load_cifar10(data_root)
