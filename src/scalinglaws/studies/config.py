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
:meth:`scalinglaws.model.spec.ModelSpec.to_dict`, from which :func:`spec_from_dict` rebuilds it
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
from ..model.activations import ACTIVATION_NAMES
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ._schema import FieldReader, join

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["COMPUTE", "Case", "GridBlock", "Study", "format_number", "load_study", "spec_from_dict"]

#: What a study may compute.
COMPUTE = ("simulation", "theory", "both")

_STUDY_FIELDS = ("name", "compute", "seed", "loss", "n_test", "store")
_GRID_FIELDS = ("n_features", "n_samples", "ridges", "seeds", "alpha", "latent_dim")
_SPEC_FIELDS = ("name", "activation", "noise_var", "feature_var", "spectrum", "teacher")
_SPECTRUM_FIELDS = {
    "power_law": ("kind", "latent_dim", "alpha", "lambda_plus"),
    "explicit": ("kind", "eigenvalues"),
}
_TEACHER_FIELDS = {
    "isotropic": ("kind", "teacher_var"),
    "power_law": ("kind", "exponent", "teacher_var"),
    "variances": ("kind", "variances"),
    "fixed": ("kind", "weights"),
    "random_features": ("kind", "activation", "width", "feature_var", "output_var"),
}


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
        out.append(
            {
                "field": field,
                "name": name,
                "activation": reader.choice(
                    table.get("activation", "linear"), join(field, "activation"), ACTIVATION_NAMES
                ),
                "noise_var": reader.real(table.get("noise_var", 0.0), join(field, "noise_var")),
                "feature_var": reader.real(
                    table.get("feature_var", 1.0), join(field, "feature_var"), positive=True
                ),
                "spectrum": _spectrum(reader, table["spectrum"], join(field, "spectrum")),
                "teacher": _teacher(reader, table.get("teacher", {}), join(field, "teacher")),
            }
        )
    return out


def _kind(reader: FieldReader, table: object, field: str, kinds: dict, default: str) -> str:
    if not isinstance(table, dict):
        raise reader.fail(field, "a table", table)
    kind = reader.choice(table.get("kind", default), join(field, "kind"), tuple(kinds))
    reader.table(table, field, allowed=kinds[kind])
    return kind


def _spectrum(reader: FieldReader, table: object, field: str) -> dict:
    kind = _kind(reader, table, field, _SPECTRUM_FIELDS, "power_law")
    if kind == "explicit":
        if "eigenvalues" not in table:
            raise InputError(f"{reader.file}: missing field '{join(field, 'eigenvalues')}'.")
        return {
            "kind": kind,
            "eigenvalues": reader.array(
                table["eigenvalues"], join(field, "eigenvalues"), positive=True
            ),
        }
    out = {"kind": kind, "field": field}
    if "latent_dim" in table:
        out["latent_dim"] = reader.integer(
            table["latent_dim"], join(field, "latent_dim"), minimum=1
        )
    if "alpha" in table:
        out["alpha"] = reader.real(table["alpha"], join(field, "alpha"), positive=True)
    out["lambda_plus"] = reader.real(
        table.get("lambda_plus", 1.0), join(field, "lambda_plus"), positive=True
    )
    return out


def _teacher(reader: FieldReader, table: object, field: str) -> dict:
    kind = _kind(reader, table, field, _TEACHER_FIELDS, "isotropic")
    if kind == "random_features":  # y = Σ_k a_k σ_t(v_k·x), MODEL.md §6
        return {
            "kind": kind,
            "activation": reader.choice(
                table.get("activation", "relu"), join(field, "activation"), ACTIVATION_NAMES
            ),
            "width": reader.integer(table.get("width", 1000), join(field, "width"), minimum=1),
            "feature_var": reader.real(
                table.get("feature_var", 1.0), join(field, "feature_var"), positive=True
            ),
            "output_var": reader.real(
                table.get("output_var", 1.0), join(field, "output_var"), positive=True
            ),
        }
    if kind in ("variances", "fixed"):
        key = "variances" if kind == "variances" else "weights"
        if key not in table:
            raise InputError(f"{reader.file}: missing field '{join(field, key)}'.")
        values = table[key]
        if kind == "fixed":
            if not isinstance(values, list) or not values:
                raise reader.fail(join(field, key), "a non-empty list of finite numbers", values)
            return {"kind": kind, key: [reader.finite(v, join(field, key)) for v in values]}
        return {"kind": kind, key: reader.array(values, join(field, key), positive=False)}
    out = {
        "kind": kind,
        "teacher_var": reader.real(
            table.get("teacher_var", 1.0), join(field, "teacher_var"), positive=True
        ),
    }
    if kind == "power_law":
        if "exponent" not in table:
            raise InputError(f"{reader.file}: missing field '{join(field, 'exponent')}'.")
        out["exponent"] = reader.finite(table["exponent"], join(field, "exponent"))
    return out


def _expand(reader: FieldReader, specs: list[dict], blocks: list[GridBlock]):
    """Every (spec, block, α, M) as a :class:`Case` with a validated canonical spec."""
    for (b, block), spec in itertools.product(enumerate(blocks), specs):
        spectrum = spec["spectrum"]
        if spectrum["kind"] == "explicit" and (block.alpha or block.latent_dim):
            field = "grid" if len(blocks) == 1 else f"grid[{b}]"
            key = "alpha" if block.alpha else "latent_dim"
            raise InputError(
                f"{reader.file}: '{field}.{key}' must be absent, since the spectrum of "
                f"{spec['field']} is explicit."
            )
        alphas = block.alpha or (spectrum.get("alpha"),)
        dims = block.latent_dim or (spectrum.get("latent_dim"),)
        for alpha, dim in itertools.product(alphas, dims):
            label = spec["name"]
            if block.alpha or block.latent_dim:
                label += f"[alpha={format_number(alpha)},M={dim}]"
            canonical = _build(reader, spec, alpha=alpha, latent_dim=dim).to_dict()
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


def format_number(value: float) -> str:
    """``value`` as short as ``{:g}`` when that is exact, else its exact ``repr``.

    Labels and file names made from numbers must tell apart values that differ only past the
    sixth significant digit: ``format_number(1.0) == "1"``, ``format_number(1.0000001) ==
    "1.0000001"``.
    """
    text = f"{value:g}"
    return text if float(text) == value else repr(float(value))


def _build(reader: FieldReader, spec: dict, *, alpha, latent_dim) -> ModelSpec:
    spectrum = dict(spec["spectrum"])
    if spectrum["kind"] == "power_law":
        for key, value in (("alpha", alpha), ("latent_dim", latent_dim)):
            if value is None:
                raise InputError(
                    f"{reader.file}: missing field '{join(spectrum['field'], key)}' "
                    f"(give it there or as a list in grid.{key})."
                )
        spectrum.update(alpha=alpha, latent_dim=latent_dim)
    body = {k: spec[k] for k in ("noise_var", "activation", "feature_var", "teacher")}
    try:
        return spec_from_dict({"spectrum": spectrum, **body})
    except InputError as err:
        raise InputError(f"{reader.file}: {spec['field']}: {err}") from None


def spec_from_dict(data: dict) -> ModelSpec:
    """The :class:`ModelSpec` described by ``data`` (the form of ``ModelSpec.to_dict``)."""
    spectrum = data["spectrum"]
    if spectrum["kind"] == "explicit":
        spec_spectrum = Spectrum.from_eigenvalues(spectrum["eigenvalues"])
    else:
        spec_spectrum = Spectrum.power_law(
            latent_dim=spectrum["latent_dim"],
            alpha=spectrum["alpha"],
            lambda_plus=spectrum.get("lambda_plus", 1.0),
        )
    return ModelSpec(
        spectrum=spec_spectrum,
        teacher=_teacher_from_dict(data.get("teacher", {"kind": "isotropic"})),
        noise_var=data.get("noise_var", 0.0),
        activation=data.get("activation", "linear"),
        feature_var=data.get("feature_var", 1.0),
    )


def _teacher_from_dict(data: dict) -> Teacher:
    kind = data["kind"]
    if kind == "isotropic":
        return Teacher.isotropic(data.get("teacher_var", 1.0))
    if kind == "power_law":
        return Teacher.power_law(data["exponent"], data.get("teacher_var", 1.0))
    if kind == "variances":
        return Teacher.from_variances(data["variances"])
    if kind == "random_features":
        return Teacher.random_features(
            data["activation"],
            data["width"],
            feature_var=data.get("feature_var", 1.0),
            output_var=data.get("output_var", 1.0),
        )
    return Teacher.fixed(data["weights"])


def canonical_json(value: object) -> str:
    """Deterministic JSON (sorted keys, no spaces) for hashing and storing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
