r"""Real regression tasks and their per-seed splits: the data side of
:mod:`scalinglaws.bridges.realdata`.

A :class:`RegressionTask` holds a dataset's inputs and targets (one-hot class labels, or the
central pixel as a regression target); :func:`split_task` draws one seed's split into a training
pool and a held-out test set and standardizes both with the pool's statistics (conventions in the
docstring of :mod:`scalinglaws.bridges.realdata`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validation import InputError, check_choice, check_positive_int
from ..datasets import Dataset, load_dataset
from ..model.streams import Stream, child_sequence, generator

__all__ = ["TARGETS", "RegressionTask", "Split", "make_task", "split_task"]

TARGETS = ("onehot", "center")


@dataclass(frozen=True)
class RegressionTask:
    """Inputs and targets of a real regression problem.

    Attributes
    ----------
    name : str
        ``"<dataset>/<target>"``.
    inputs : ndarray of shape (n_total, n_dims)
    targets : ndarray of shape (n_total, n_outputs)
        One-hot labels or the regression target (not yet centered).
    """

    name: str
    inputs: np.ndarray
    targets: np.ndarray


def make_task(
    dataset: str | Dataset, target: str = "onehot", *, max_samples: int | None = None, **options
) -> RegressionTask:
    """Build a :class:`RegressionTask` from a dataset (name: ``options`` go to the loader).

    ``max_samples`` keeps the first rows of the dataset (a fixed subset, before any split).

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> task = make_task(toy, 'onehot')
    >>> task.name, task.inputs.shape, task.targets.shape
    ('toy/onehot', (300, 8), (300, 3))
    """
    data = load_dataset(dataset, **options) if isinstance(dataset, str) else dataset
    target = check_choice("target", target, TARGETS)
    keep = None if max_samples is None else check_positive_int("max_samples", max_samples)
    x = np.asarray(data.inputs[:keep], dtype=np.float64)
    data = replace(data, targets=None if data.targets is None else data.targets[:keep])
    if target == "onehot":
        if data.targets is None:
            raise InputError(
                f"'target' must be 'center' for dataset '{data.name}', which has no class "
                "labels. Got 'onehot' instead."
            )
        classes, labels = np.unique(data.targets, return_inverse=True)
        y = np.zeros((labels.size, classes.size))
        y[np.arange(labels.size), labels] = 1.0
        return RegressionTask(f"{data.name}/onehot", x, y)
    side = int(round(np.sqrt(x.shape[1])))
    col = (side // 2) * side + side // 2 if side * side == x.shape[1] else x.shape[1] // 2
    return RegressionTask(f"{data.name}/center", np.delete(x, col, axis=1), x[:, col : col + 1])


@dataclass(frozen=True)
class Split:
    """One seed's split: standardized pool and test inputs, centered targets.

    ``pool_inputs`` (n_pool, D) and ``pool_targets`` (n_pool, C) in permutation order (the first P
    rows are the training set of size P); ``test_inputs`` (n_test, D), ``test_targets`` (n_test,
    C); ``pool_index`` and ``test_index`` are the rows of the task (disjoint).
    """

    pool_inputs: np.ndarray
    pool_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    pool_index: np.ndarray
    test_index: np.ndarray


def default_n_test(n_total: int) -> int:
    """Test-set size when none is given: a tenth of the samples, between 1 and 10 000."""
    return int(min(max(n_total // 10, 1), 10_000))


def split_task(task: RegressionTask, n_test: int | None, seq: np.random.SeedSequence) -> Split:
    r"""Permute, split and standardize with pool statistics (module docstring).

    .. math:: x \mapsto (x - \bar x_p)\big/\sqrt{\overline{\|x - \bar x_p\|^2}_p/D},
              \qquad y \mapsto y - \bar y_p \qquad (\bar\cdot_p: \text{pool averages})

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> from scalinglaws.bridges.tasks import make_task
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> split = split_task(make_task(toy), 100, np.random.SeedSequence(0))
    >>> split.pool_inputs.shape, split.test_inputs.shape
    ((200, 8), (100, 8))
    >>> bool(np.allclose(split.pool_inputs.mean(axis=0), 0.0))  # centered with the pool's mean
    True
    """
    n_total = task.inputs.shape[0]
    n_test = default_n_test(n_total) if n_test is None else check_positive_int("n_test", n_test)
    if n_test > n_total - 2:
        raise InputError(f"'n_test' must be at most {n_total - 2}. Got {n_test} instead.")
    gen = generator(child_sequence(seq, Stream.SPLIT))
    perm = gen.permutation(n_total)
    pool, test = perm[: n_total - n_test], perm[n_total - n_test :]
    mean = task.inputs[pool].mean(axis=0)
    centered = task.inputs[pool] - mean
    scale = np.sqrt(np.mean(np.sum(centered * centered, axis=1)) / task.inputs.shape[1])
    if not scale > 0:
        raise InputError("'inputs' must not be constant. Got zero variance in every column.")
    y_mean = task.targets[pool].mean(axis=0)
    return Split(
        pool_inputs=centered / scale,
        pool_targets=task.targets[pool] - y_mean,
        test_inputs=(task.inputs[test] - mean) / scale,
        test_targets=task.targets[test] - y_mean,
        pool_index=pool,
        test_index=test,
    )
