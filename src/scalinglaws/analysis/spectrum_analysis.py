r"""The spectrum of a synthetic model or a real dataset, with its power-law fits and cut-off.

:func:`analyze_spectrum` is the recipe behind ``scalinglaws spectrum``: the eigenvalues of N
random features (exact :math:`K/N` for a synthetic spec, sampled :math:`\Phi^\top\Phi/(PN)` with
P data samples or for a dataset), the data covariance spectrum of a dataset, power-law fits on
windows around the data's rank (:func:`~scalinglaws.analysis.powerlaw.extension_windows`: below
M, from M to 3M and from 3M to 8M), and the cut-off where the spectrum falls below its power law.

=========  ======================  ==============================================================
symbol     name                    meaning
=========  ======================  ==============================================================
M, D       ``rank``                data rank: M for a spec, the numerical rank D for a dataset
N          ``n_features``          number of random features
P          ``n_samples``           samples behind a sampled spectrum (a dataset: rows used)
=========  ======================  ==============================================================

Policy (each a choice stated once): a window that reaches past a spectrum's numerical rank is
reported as skipped; a data covariance spectrum is fitted on [min(10, D/4), D/2) (its last half
falls steeply); the cut-off is searched past the first window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import InputError
from .._validation import check_positive_int
from ..datasets import load_dataset
from ..model.spec import ModelSpec
from ..model.spectrum import Spectrum
from . import spectra
from .powerlaw import extension_windows, find_cutoff, fit_power_law, numerical_rank

__all__ = ["NORMALIZATION", "SpectrumAnalysis", "analyze_spectrum"]

#: How the eigenvalues are normalized.
NORMALIZATION = (
    "features: eigenvalues of K/N (exact) or Phi^T Phi/(P N) (sampled); "
    "data: centered covariance, 1/P"
)


@dataclass(frozen=True)
class SpectrumAnalysis:
    """What :func:`analyze_spectrum` found.

    Attributes
    ----------
    source : dict
        The synthetic spectrum (``kind="synthetic"``) or the dataset (``kind="dataset"``).
    activation : str
        σ of the features.
    n_features : int
        N.
    rank : int
        The data's rank (M, or the numerical rank D of a dataset's covariance).
    curves : dict of str to ndarray
        ``"features"`` (and ``"data"`` for a dataset), decreasing eigenvalues; with
        ``compare``, also ``"<activation> features"`` for each compared activation.
    fits : list of dict
        One record per (spectrum, window): the :class:`~scalinglaws.analysis.powerlaw.PowerLawFit`
        fields, or ``skipped`` with the reason.
    cutoff : dict or None
        :meth:`~scalinglaws.analysis.powerlaw.Cutoff.to_dict` of the features' spectrum.
    """

    source: dict
    activation: str
    n_features: int
    rank: int
    curves: dict = field(repr=False)
    fits: list
    cutoff: dict | None
    normalization: str = NORMALIZATION

    def to_dict(self) -> dict:
        """Plain JSON, all eigenvalues included (the CLI's ``--json``)."""
        return {
            "source": self.source,
            "activation": self.activation,
            "n_features": self.n_features,
            "normalization": self.normalization,
            "rank": self.rank,
            "fits": self.fits,
            "cutoff": self.cutoff,
            "eigenvalues": {k: v.tolist() for k, v in self.curves.items()},
        }

    def to_dataset(self):
        """The curves as variables along their own ``rank_<name>`` dimension; fits as JSON."""
        import json

        import xarray as xr

        names = {k: k.replace(" ", "_") for k in self.curves}
        data = {names[k]: (f"rank_{names[k]}", v) for k, v in self.curves.items()}
        return xr.Dataset(
            data,
            attrs={"source": json.dumps(self.source), "fits": json.dumps(self.fits),
                   "activation": self.activation, "n_features": self.n_features,
                   "rank": self.rank},  # fmt: skip
        )

    def table(self, points: int = 16) -> list[dict]:
        """Eigenvalues at ``points`` log-spaced ranks, one record per rank (None past a curve)."""
        n = max(v.size for v in self.curves.values())
        ranks = np.unique(np.round(np.geomspace(1, n, points)).astype(int))
        return [
            {"rank": int(r),
             **{k: float(v[r - 1]) if r <= v.size else None for k, v in self.curves.items()}}
            for r in ranks
        ]  # fmt: skip


def _fits(lam: np.ndarray, windows, label: str) -> list[dict]:
    if not np.all(np.isfinite(lam)):
        return [
            {"spectrum": label, "start": a, "stop": b, "skipped": "the spectrum is not finite"}
            for a, b in windows
        ]
    rank = numerical_rank(lam)
    out = []
    for start, stop in windows:
        record = {"spectrum": label, "start": start, "stop": stop}
        if stop - 1 > rank:
            record["skipped"] = f"window reaches past the numerical rank {rank}"
        else:
            record.update(fit_power_law(lam, start=start, stop=stop).to_dict())
        out.append(record)
    return out


def _cutoff(lam: np.ndarray, windows, drop: float) -> dict | None:
    if not windows or not np.all(np.isfinite(lam)):
        return None
    start, stop = windows[0]
    if stop - 1 > numerical_rank(lam):
        return None
    return find_cutoff(lam, start=start, stop=stop, drop=drop).to_dict()


def analyze_spectrum(
    *,
    spectrum: Spectrum | None = None,
    dataset: str | None = None,
    activation: str = "relu",
    n_features: int = 1000,
    n_samples: int | None = None,
    feature_var: float = 1.0,
    seed: int = 0,
    windows=(),
    drop: float = 0.1,
    compare=(),
    max_memory=None,
) -> SpectrumAnalysis:
    """The feature spectrum of a synthetic ``spectrum`` or a real ``dataset``, fitted.

    Parameters
    ----------
    spectrum : Spectrum, optional
        The latent spectrum (exactly one of ``spectrum`` and ``dataset``).
    dataset : str, optional
        A dataset name of :data:`scalinglaws.datasets.DATASETS` (rows: a seeded permutation's
        first ``n_samples``, default 10000).
    activation : str, default "relu"
    n_features : int, default 1000
    n_samples : int, optional
        Synthetic: sample P inputs instead of the exact kernel; dataset: rows to use.
    feature_var : float, default 1
        σ_u².
    seed : int, default 0
    windows : sequence of (start, stop), optional
        Fit windows (1-based ranks, stop excluded); default around the data's rank.
    drop : float, default 0.1
        Cut-off fraction of the fitted power law.
    compare : sequence of str, optional
        Other activations whose feature spectra to add to ``curves`` (for figures).
    max_memory : int or str, optional

    Returns
    -------
    SpectrumAnalysis

    Examples
    --------
    >>> from scalinglaws import Spectrum
    >>> a = analyze_spectrum(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0),
    ...                      activation='relu', n_features=200, compare=('linear',))
    >>> a.rank, sorted(a.curves)
    (50, ['features', 'linear features'])
    """
    n_features = check_positive_int("n_features", n_features)
    if n_samples is not None:
        n_samples = check_positive_int("n_samples", n_samples)
    if (spectrum is None) == (dataset is None):
        raise InputError(
            "'spectrum' and 'dataset' must be given one at a time (-M/-a or --dataset). "
            f"Got {'both' if spectrum is not None else 'neither'} instead."
        )
    if spectrum is not None:
        source, curves, rank, features = _synthetic(
            spectrum, n_features, n_samples, feature_var, seed, max_memory
        )
    else:
        source, curves, rank, features = _from_dataset(
            dataset, n_features, n_samples, feature_var, seed, max_memory
        )
    curves["features"] = features(activation)
    for other in compare:
        curves[f"{other} features"] = curves["features"] if other == activation else features(other)
    fit_windows = list(windows) or extension_windows(rank, curves["features"].size)
    fits = _fits(curves["features"], fit_windows, "features")
    if "data" in curves:
        default = extension_windows(rank, rank)[:1]
        start = default[0][0] if default else 2
        data_windows = list(windows) or ([(start, max(start + 3, rank // 2))] if default else [])
        fits = _fits(curves["data"], data_windows, "data") + fits
    return SpectrumAnalysis(
        source=source,
        activation=str(activation),
        n_features=n_features,
        rank=rank,
        curves=curves,
        fits=fits,
        cutoff=_cutoff(curves["features"], fit_windows, drop),
    )


def _synthetic(spectrum, n_features, n_samples, feature_var, seed, max_memory):
    def features(act: str) -> np.ndarray:
        spec = ModelSpec(spectrum=spectrum, activation=act, feature_var=feature_var)
        if n_samples is None:
            return spectra.exact_feature_spectrum(spec, n_features, rng=seed, max_memory=max_memory)
        return spectra.sampled_feature_spectrum(
            spec, n_features, n_samples, rng=seed, max_memory=max_memory
        )

    source = {"kind": "synthetic", **spectrum.to_dict(), "exact": n_samples is None}
    return source, {}, spectrum.latent_dim, features


def _from_dataset(name, n_features, n_samples, feature_var, seed, max_memory):
    ds = load_dataset(name)
    order = np.random.default_rng(seed).permutation(ds.n_samples)
    keep = order[: min(ds.n_samples, n_samples or 10_000)]
    inputs = ds.inputs[keep]
    data = spectra.covariance_spectrum(inputs)
    rank = numerical_rank(data)

    def features(act: str) -> np.ndarray:
        return spectra.random_feature_spectrum(
            inputs, n_features, activation=act, feature_var=feature_var, rng=seed,
            max_memory=max_memory,
        )  # fmt: skip

    source = {**ds.to_dict(), "kind": "dataset", "modality": ds.kind}
    source.update(n_samples_used=int(keep.size), rank=rank)
    return source, {"data": data}, rank, features
