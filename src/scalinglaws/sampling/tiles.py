r"""Fixed-shape tiles: every BLAS call whose result enters a cell has a shape that the grid does not
choose.

Why. An optimized BLAS picks its kernels and its split of the work between threads by the shape
of each call, and different kernels sum in different orders; so the entry (μ, j) of a product
``x @ u.T`` can differ in its last bits between a 100 × 60 and a 500 × 400 call (measured with
OpenBLAS 0.3.31: Haswell and Nehalem kernels with two threads, SkylakeX small-matrix kernels with
one). A grid engine that multiplies whole grids at once therefore gives a cell numbers that depend
on the other cells of the grid. Here every product is cut into tiles of a fixed size ``t``: a
matrix of ``rows × cols`` is stored as ``(ceil(rows/t), ceil(cols/t), t, t)`` contiguous tiles,
zero beyond its edge, and every product is a ``(t × k) · (k × t)`` call whose inner size ``k``
belongs to the model (the latent dimension), not to the grid. A tile's entries are then the same
whatever grid it sits in, for a given BLAS and thread count.

The tile size depends on the inner dimension only (:func:`tile_size`), so that padding a short
matrix to whole tiles never costs more than about 32 MB per 256 rows of a wide one.

=========  =============  ========================================
symbol     name           meaning
=========  =============  ========================================
t          ``tile``       rows and columns of a tile
k          ``inner``      inner dimension of a product (M or D)
=========  =============  ========================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._blas import parallel_workers, single_threaded
from ._parallel import ordered_imap

__all__ = ["tile_size", "padded", "PaddedRows", "TiledMatrix", "tiled_products"]


def tile_size(inner: int) -> int:
    """Tile size for products over an inner dimension ``inner``: 256, halved per 4× above 2^14.

    Examples
    --------
    >>> tile_size(2000), tile_size(100_000), tile_size(10**7)
    (256, 64, 16)
    """
    t, limit = 256, 1 << 14
    while inner > limit and t > 16:
        t //= 2
        limit *= 4
    return t


def padded(n: int, t: int) -> int:
    """``n`` rounded up to a multiple of ``t``."""
    return -(-int(n) // t) * t


class PaddedRows:
    """A ``(rows, width)`` float64 array stored with zero rows up to a multiple of ``t``.

    ``data`` has shape ``(padded(rows, t), width)``; ``tile(b)`` is the contiguous block of rows
    ``b·t .. (b+1)·t``.
    """

    def __init__(self, data: np.ndarray, rows: int, t: int) -> None:
        self.data, self.rows, self.t = data, int(rows), int(t)

    @classmethod
    def zeros(cls, rows: int, width: int, t: int) -> PaddedRows:
        return cls(np.zeros((padded(rows, t), width)), rows, t)

    @property
    def n_tiles(self) -> int:
        return self.data.shape[0] // self.t

    def tile(self, b: int) -> np.ndarray:
        return self.data[b * self.t : (b + 1) * self.t]

    @property
    def values(self) -> np.ndarray:
        """The unpadded rows (a view)."""
        return self.data[: self.rows]


class TiledMatrix:
    """A ``rows × cols`` matrix as contiguous ``(t, t)`` tiles, exactly zero beyond its edge.

    ``tiles`` has shape ``(ceil(rows/t), ceil(cols/t), t, t)``.
    """

    def __init__(self, tiles: np.ndarray, rows: int, cols: int) -> None:
        self.tiles, self.rows, self.cols = tiles, int(rows), int(cols)
        self.t = int(tiles.shape[2])

    @property
    def nbytes(self) -> int:
        return int(self.tiles.nbytes)

    def block(self, rows: int, cols: int, *, order: str = "C") -> np.ndarray:
        """The leading ``rows × cols`` block as one new contiguous array."""
        t = self.t
        rt, ct = -(-rows // t), -(-cols // t)
        full = self.tiles[:rt, :ct].transpose(0, 2, 1, 3).reshape(rt * t, ct * t)
        return np.array(full[:rows, :cols], order=order)

    def row_tile(self, b: int, col_tile: int, *, keep: int | None = None) -> np.ndarray:
        """Tile (b, col_tile); with ``keep``, a copy whose rows from ``keep`` on are zero."""
        tile = self.tiles[b, col_tile]
        if keep is None or keep >= self.t:
            return tile
        out = tile.copy()
        out[keep:] = 0.0
        return out

    def col_tile(self, row_tile: int, b: int, *, keep: int | None = None) -> np.ndarray:
        """Tile (row_tile, b); with ``keep``, a copy whose columns from ``keep`` on are zero."""
        tile = self.tiles[row_tile, b]
        if keep is None or keep >= self.t:
            return tile
        out = tile.copy()
        out[:, keep:] = 0.0
        return out


def tiled_products(
    left: PaddedRows,
    right: PaddedRows,
    *,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    on_tile: Callable[[], None] | None = None,
) -> TiledMatrix:
    r"""All tiles of :math:`\sigma(L R^\top)`, each one ``(t × k)·(k × t)`` product.

    ``left`` (rows a × k) and ``right`` (rows b × k) are zero-padded row arrays with the same
    tile size; ``transform`` (an elementwise σ, applied tile by tile) defaults to the identity.
    Entries beyond ``left.rows`` or ``right.rows`` are set to exactly 0 after σ.
    """
    t = left.t
    if right.t != t or left.data.shape[1] != right.data.shape[1]:
        raise ValueError("tiled_products needs operands with the same tile size and inner size")
    out = np.empty((left.n_tiles, right.n_tiles, t, t))

    def column(c: int) -> None:
        r_tile = right.tile(c)
        for r in range(left.n_tiles):
            np.matmul(left.tile(r), r_tile.T, out=out[r, c])
            if transform is not None:
                out[r, c] = transform(out[r, c])

    workers = parallel_workers()
    with single_threaded():  # one-thread products, columns side by side (sampling._parallel)
        for _ in ordered_imap(column, range(right.n_tiles), workers):
            if on_tile is not None:
                for _ in range(left.n_tiles):
                    on_tile()
    _zero_beyond(out, left.rows, right.rows)
    return TiledMatrix(out, left.rows, right.rows)


def _zero_beyond(tiles: np.ndarray, rows: int, cols: int) -> None:
    t = tiles.shape[2]
    last_r, keep_r = divmod(rows, t)
    last_c, keep_c = divmod(cols, t)
    if keep_r:
        tiles[last_r, :, keep_r:, :] = 0.0
    if keep_c:
        tiles[:, last_c, :, keep_c:] = 0.0
