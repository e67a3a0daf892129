"""Every drawing of the package: functions ``(ax, data, **options) -> ax``, and figure writers.

No science here: the functions only draw what the library computed, and
deleting this package changes no number. matplotlib (the ``plot`` extra,
``pip install 'scalinglaws[plot]'``) is imported through one guard, :func:`pyplot`, which uses
the Agg backend and turns a missing matplotlib into one clear error.

=================  ==============================================================
module             drawings
=================  ==============================================================
``curves``         loss against N or P, double descent, budget scans
``spectra``        eigenvalue spectra with fits and markers
``studies``        a study's standard figures
``realdata``       measured loss on real data beside the theory
=================  ==============================================================
"""

from __future__ import annotations

from pathlib import Path

from .._errors import InputError

__all__ = ["pyplot", "new_axes", "save_figure"]


def pyplot():
    """matplotlib.pyplot with the Agg backend, or a one-line error saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise InputError(
            "figures need matplotlib, which is not installed: pip install 'scalinglaws[plot]'"
        ) from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def new_axes(width: float = 5.5, height: float = 4.0, *, ncols: int = 1):
    """A new (figure, axes) pair (axes an array when ``ncols`` > 1)."""
    fig, ax = pyplot().subplots(1, ncols, figsize=(width, height), constrained_layout=True)
    return fig, ax


def save_figure(fig, path: str | Path, *, svg: bool = False) -> list[Path]:
    """Write ``fig`` as PNG (150 dpi), and SVG too if asked, then close it; return the paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    paths = [path]
    if svg:
        fig.savefig(path.with_suffix(".svg"))
        paths.append(path.with_suffix(".svg"))
    pyplot().close(fig)
    return paths
