"""Study files: a TOML description of specs × grids × seeds, validated once into a :class:`Study`.

A study file has three kinds of table (see ``docs/studies.md`` for the full schema)::

    [study]                      # optional: name, compute, seed, loss, n_test, store
    compute = "both"             # "simulation", "theory" or "both"

    [grid]                       # or [[grid]] blocks; each block × each spec is run
    n_features = [16, 32, 64]    # N
    n_samples = [16, 32, 64]     # P
    ridges = [0.0, 1e-2]         # γ
    seeds = 4                    # 4 → seeds 0..3, or a list of seed indices
    alpha = [0.5, 1.0]           # optional: α values replacing the spec's
    latent_dim = [200]           # optional: M values replacing the spec's

    [[spec]]                     # one or more model specs
    name = "linear"
    activation = "linear"
    noise_var = 0.0
    feature_var = 1.0
    spectrum = { kind = "power_law", latent_dim = 400, alpha = 1.0 }
    teacher = { kind = "isotropic", teacher_var = 1.0 }

Each (spec, grid block, α, M) is a :class:`Case`; its spec is stored in the canonical form of
:meth:`scalinglaws.ModelSpec.to_dict`, from which
:meth:`~scalinglaws.ModelSpec.from_dict` rebuilds it
anywhere.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .._validation import InputError
from ..model._schema import relocate
from ..model.spec import ModelSpec
from ..model.spectrum import SPECTRA
from ..results import format_number
from ._schema import FieldReader, join

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["COMPUTE", "Case", "GridBlock", "Study", "format_number", "load_study"]

#: What a study may compute.
COMPUTE = ("simulation", "theory", "both")

_STUDY_FIELDS = ("name", "compute", "seed", "loss", "n_test", "store")
_GRID_FIELDS = ("n_features", "n_samples", "ridges", "seeds", "alpha", "latent_dim")
_SPEC_FIELDS = ("name", "activation", "noise_var", "feature_var", "spectrum", "teacher")


@dataclass(frozen=True)
class GridBlock:
    """One block of the grid: N × P × γ, its seeds, and optional α and M values."""

    n_features: tuple[int, ...]
    n_samples: tuple[int, ...]
    ridges: tuple[float, ...]
    seeds: tuple[int, ...]
    alpha: tuple[float, ...] | None = None
    latent_dim: tuple[int, ...] | None = None

    def axes(self) -> dict:
        """The (N, P, γ) axes as plain JSON."""
        return {
            "n_features": list(self.n_features),
            "n_samples": list(self.n_samples),
            "ridges": list(self.ridges),
        }


@dataclass(frozen=True)
class Case:
    """One spec on one grid block, with α and M resolved: the spec in canonical dict form."""

    spec_name: str
    label: str
    spec: dict
    block: int
    grid: GridBlock


@dataclass(frozen=True)
class Study:
    """A validated study file."""

    path: Path
    name: str
    file_hash: str
    compute: str
    root_seed: int
    loss: str
    n_test: int
    store: Path
    cases: tuple[Case, ...]

    @property
    def wants_simulation(self) -> bool:
        """Whether simulation units are planned."""
        return self.compute in ("simulation", "both")

    @property
    def wants_theory(self) -> bool:
        """Whether theory units are planned."""
        return self.compute in ("theory", "both")


def load_study(path: str | Path) -> Study:
    """Read and validate the study file at ``path``.

    Raises
    ------
    InputError
        One line naming the file and the field: what was expected, what was found.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"'STUDY' must be an existing study file. Got '{path}' instead.")
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))  # a byte-order mark is fine
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"{path}: not a valid TOML file ({err}).") from None
    reader = FieldReader(str(path))
    reader.table(data, "", allowed=("study", "grid", "spec"), required=("grid", "spec"))
    head = _study_table(reader, data.get("study", {}), path)
    blocks = _grid_blocks(reader, data["grid"])
    specs = _spec_tables(reader, data["spec"])
    cases = _unique_labels(reader, tuple(_expand(reader, specs, blocks)))
    return Study(
        path=path,
        file_hash=hashlib.sha256(raw).hexdigest(),
        cases=cases,
        **head,
    )


def _study_table(reader: FieldReader, table: object, path: Path) -> dict:
    reader.table(table, "study", allowed=_STUDY_FIELDS)
    store = table.get("store", f"{path.stem}.sqlite")
    store = Path(reader.string(store, "study.store"))
    return {
        "name": reader.string(table.get("name", path.stem), "study.name"),
        "compute": reader.choice(table.get("compute", "simulation"), "study.compute", COMPUTE),
        "root_seed": reader.integer(table.get("seed", 0), "study.seed", minimum=0),
        "loss": reader.choice(table.get("loss", "exact"), "study.loss", ("exact", "monte_carlo")),
        "n_test": reader.integer(table.get("n_test", 10_000), "study.n_test", minimum=1),
        "store": store if store.is_absolute() else path.parent / store,
    }


def _grid_blocks(reader: FieldReader, grid: object) -> list[GridBlock]:
    if isinstance(grid, dict):
        return [_grid_block(reader, grid, "grid")]
    if not isinstance(grid, list) or not grid:
        raise reader.fail("grid", "a table or a non-empty array of tables", grid)
    return [_grid_block(reader, block, f"grid[{i}]") for i, block in enumerate(grid)]


def _grid_block(reader: FieldReader, table: object, field: str) -> GridBlock:
    reader.table(table, field, allowed=_GRID_FIELDS, required=("n_features", "n_samples"))
    alpha, latent_dim = table.get("alpha"), table.get("latent_dim")
    if alpha is not None:
        alpha = reader.real_list(alpha, join(field, "alpha"), positive=True)
    if latent_dim is not None:
        latent_dim = reader.int_list(latent_dim, join(field, "latent_dim"))
    return GridBlock(
        n_features=reader.int_list(table["n_features"], join(field, "n_features")),
        n_samples=reader.int_list(table["n_samples"], join(field, "n_samples")),
        ridges=reader.real_list(table.get("ridges", [0.0]), join(field, "ridges")),
        seeds=reader.seeds(table.get("seeds", 1), join(field, "seeds")),
        alpha=alpha,
        latent_dim=latent_dim,
    )


def _spec_tables(reader: FieldReader, specs: object) -> list[dict]:
    """The [[spec]] tables: a unique name each, the rest as the model's plain-JSON form."""
    if isinstance(specs, dict):
        specs = [specs]
    if not isinstance(specs, list) or not specs:
        raise reader.fail("spec", "a non-empty array of tables ([[spec]])", specs)
    out, names = [], set()
    for i, table in enumerate(specs):
        field = f"spec[{i}]"
        reader.table(table, field, allowed=_SPEC_FIELDS, required=("spectrum",))
        name = reader.string(table.get("name", f"spec{i}"), join(field, "name"))
        if name in names:
            raise reader.fail(join(field, "name"), "unique among the specs", name)
        names.add(name)
        body = {key: value for key, value in table.items() if key != "name"}
        if not isinstance(body["spectrum"], dict):
            raise reader.fail(join(field, "spectrum"), "a table", body["spectrum"])
        out.append({"field": field, "name": name, "body": body})
    return out


def _expand(reader: FieldReader, specs: list[dict], blocks: list[GridBlock]):
    """Every (spec, block, α, M) as a :class:`Case` with a validated canonical spec."""
    for (b, block), spec in itertools.product(enumerate(blocks), specs):
        spectrum = spec["body"]["spectrum"]
        swept = [key for key in ("alpha", "latent_dim") if getattr(block, key)]
        kind = spectrum.get("kind", "power_law")
        if swept and not all(key in SPECTRA.get(kind, (None, ()))[1] for key in swept):
            field = "grid" if len(blocks) == 1 else f"grid[{b}]"
            raise InputError(
                f"{reader.file}: '{field}.{swept[0]}' must be absent, since the spectrum of "
                f"{spec['field']} has no {swept[0]} (kind {kind!r})."
            )
        alphas = block.alpha or (spectrum.get("alpha"),)
        dims = block.latent_dim or (spectrum.get("latent_dim"),)
        for alpha, dim in itertools.product(alphas, dims):
            label = spec["name"]
            if swept:
                label += f"[alpha={format_number(alpha)},M={dim}]"
            canonical = _build(reader, spec, swept, alpha=alpha, latent_dim=dim).to_dict()
            yield Case(spec_name=spec["name"], label=label, spec=canonical, block=b, grid=block)


def _unique_labels(reader: FieldReader, cases: tuple[Case, ...]) -> tuple[Case, ...]:
    """Fail if two different (spec, α, M) share a label: their results would be mixed up."""
    seen: dict[str, dict] = {}
    for case in cases:
        if seen.setdefault(case.label, case.spec) != case.spec:
            raise InputError(
                f"{reader.file}: case labels must be unique. Got '{case.label}' for two "
                "different specs instead; rename one of the specs."
            )
    return cases


def _build(reader: FieldReader, spec: dict, swept, *, alpha, latent_dim) -> ModelSpec:
    """The model of one case: the grid's α and M filled in, read by the model layer itself."""
    body = dict(spec["body"])
    spectrum = dict(body["spectrum"])
    for key, value in (("alpha", alpha), ("latent_dim", latent_dim)):
        if key in swept:
            spectrum[key] = value
    body["spectrum"] = spectrum
    try:
        return ModelSpec.from_dict(body)
    except InputError as err:
        hint = ""
        if "missing field 'spectrum.alpha'" in str(err) or "'spectrum.latent_dim'" in str(err):
            hint = " (give it there or as a list in grid.alpha / grid.latent_dim)"
        raise InputError(f"{reader.file}: {relocate(err, spec['field'])}{hint}") from None


def canonical_json(value: object) -> str:
    """Deterministic JSON (sorted keys, no spaces) for hashing and storing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
