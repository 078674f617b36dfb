"""experiments.data: IDX (gz/raw), real FashionMNIST, CIFAR10 batch pickles with a restricted unpickler."""
from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from experiments import data as D
from lpm_verify.errors import DataNotFoundError, LPMInputError


# -- IDX ----------------------------------------------------------------------------------------
def idx_bytes(a: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array (magic 0 0 8 ndim, big-endian dims)."""
    return bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def write_fashion(folder: Path, n_train=20, n_test=10, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
              "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "test_labels": (np.arange(n_test) % 10).astype(np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in D.FASHION_MNIST_FILES.items():
        raw = idx_bytes(arrays[key])
        (folder / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip_gz_and_raw(tmp_path, gz):
    arrays = write_fashion(tmp_path, gz=gz)
    ds = D.load_fashion_mnist(tmp_path)
    assert ds.X_train.shape == (20, 1, 28, 28) and ds.X_train.dtype == np.uint8
    np.testing.assert_array_equal(ds.X_train[:, 0], arrays["train_images"])
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    assert ds.source == str(tmp_path)


def test_torchvision_style_root(tmp_path):
    write_fashion(tmp_path / "FashionMNIST" / "raw", gz=False)
    assert D.load_fashion_mnist(tmp_path).source == str(tmp_path / "FashionMNIST" / "raw")


def test_truncated_idx_is_refused():
    raw = idx_bytes(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(LPMInputError, match="truncated or corrupt"):
        D.parse_idx(raw[:-1])
    with pytest.raises(LPMInputError, match="not an IDX file"):
        D.parse_idx(b"\x01\x02\x03\x04")


def test_real_fashion_mnist():
    """The Debian package's files (CI installs dataset-fashion-mnist)."""
    ds = D.load_fashion_mnist()
    assert ds.X_train.shape == (60000, 1, 28, 28) and ds.X_test.shape == (10000, 1, 28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10     # the paper's n_A = 6000 per class
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert 0.28 < ds.X_train.mean() / 255 < 0.29               # the normalisation mean we use (0.2860)


def test_missing_data_names_file_and_how_to_get_it(tmp_path):
    write_fashion(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError) as err:
        D.load_fashion_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(err.value)
    assert "apt-get install dataset-fashion-mnist" in str(err.value)
    with pytest.raises(DataNotFoundError, match="data_batch_1.*--data-root"):
        D.load_cifar10(tmp_path)


def test_cli_reports_missing_data_without_traceback(tmp_path, capsys):
    from lpm_verify.cli import main
    assert main(["train", "--preset", "cpu-smoke", "--data-root", str(tmp_path), "--out", str(tmp_path / "runs"),
                 "--no-progress"]) == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


# -- CIFAR10 --------------------------------------------------------------------------------------
class Py2Pickler(pickle._Pickler):
    """Writes protocol 2 the way Python 2's cPickle wrote the CIFAR10 files: every str/bytes as a
    py2 ``str`` (SHORT_BINSTRING/BINSTRING), numpy's reconstructor under ``numpy.core.multiarray``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        n = len(raw)
        self.write(pickle.SHORT_BINSTRING + bytes([n]) + raw if n < 256 else
                   pickle.BINSTRING + struct.pack("<i", n) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def py2_pickle(obj) -> bytes:
    import io
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")


def write_cifar(folder: Path, n=4, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in D.CIFAR10_TRAIN + (D.CIFAR10_TEST,):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        batches[name] = (data, labels)
        (folder / name).write_bytes(py2_pickle({"batch_label": f"{name} of 5", "labels": labels, "data": data,
                                                "filenames": [f"img_{i}.png" for i in range(n)]}))
    return batches


def test_generated_file_looks_like_the_real_python2_format(tmp_path):
    import pickletools
    raw = py2_pickle({"data": np.zeros((1, 3072), np.uint8), "labels": [1]})
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(raw)]
    assert ("GLOBAL", "numpy.core.multiarray _reconstruct") in ops
    assert not any(name in ("BINUNICODE", "SHORT_BINUNICODE", "BINBYTES") for name, _ in ops)


@pytest.mark.parametrize("nested", [False, True])
def test_read_generated_cifar_folder(tmp_path, nested):
    folder = tmp_path / "cifar-10-batches-py" if nested else tmp_path
    batches = write_cifar(folder)
    ds = D.load_dataset("cifar10", tmp_path)
    assert ds.X_train.shape == (20, 3, 32, 32) and ds.X_test.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(ds.X_train[:4].reshape(4, -1), batches["data_batch_1"][0])
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][1])


def test_modern_numpy_pickle_also_reads(tmp_path):
    """A protocol-3 pickle (numpy 2 names, bytes opcodes) uses the same allowed globals."""
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": data, "labels": [3, 4]}, protocol=3))
    X, y = D.read_cifar_batch(path)
    np.testing.assert_array_equal(X.reshape(2, -1), data)
    assert y.tolist() == [3, 4]


class Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_executing(tmp_path):
    write_cifar(tmp_path)
    marker = tmp_path / "PWNED"
    # Sanity: the payload really runs under the ordinary unpickler ...
    pickle.loads(pickle.dumps(Evil(marker), protocol=2))
    assert marker.exists()
    marker.unlink()
    # ... but not when it sits in a CIFAR10 batch file.
    (tmp_path / "data_batch_3").write_bytes(pickle.dumps({"data": Evil(marker), "labels": []}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"refused to load global (posix|os)\.system"):
        D.load_cifar10(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("payload, message", [
    (pickle.dumps(eval, protocol=3), "global builtins.eval"),
    (pickle.dumps({"data": np.array([1, 2], dtype=object)}, protocol=3), "numpy object dtype"),
    (pickle.dumps(np.float64(1.0), protocol=3), "global numpy"),            # scalars: not in the files
    (pickle.dumps({"data": b"x"}, protocol=2), "global _codecs.encode"),    # py3 protocol-2 bytes
])
def test_other_globals_are_refused(payload, message):
    with pytest.raises(pickle.UnpicklingError, match=f"refused.*{message}"):
        D.restricted_load(payload)


def test_wrong_content_is_refused(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}, protocol=3))
    with pytest.raises(LPMInputError, match="uint8 array"):
        D.read_cifar_batch(path)
