"""Studies at scale: TOML study files, a resumable SQLite result store, local or Dask execution.

=====================  ===========================================================
module                 what it does
=====================  ===========================================================
``config``             study files → validated :class:`Study` (specs × grid blocks)
``units``              work units (one seed of one grid block) and :func:`run_unit`
``store``              :class:`ResultStore`: SQLite, one transaction per unit, schema migrations
``leases``             claims on units with expiring leases: runners on one store share the work
``pool``               local worker processes that cannot outlive the runner
``executors``          ``serial``, ``processes`` (default), ``dask``
``runner``             :func:`run_study` (resumable, Ctrl-C safe, shares a store)
``status``             :func:`study_status`: done / total per case, in progress, ETA
``export``             CSV, Parquet, xarray/netCDF
``figures``            standard figures: loss vs N and vs P, theory over simulation
=====================  ===========================================================

The sweep layer holds no science: every number comes from
:func:`scalinglaws.sampling.simulate.simulate` or the theory, unit by unit, and the executor
changes none.
"""

from .config import Study, load_study
from .executors import EXECUTORS, WorkerLost, make_executor
from .export import FORMATS, export_study, study_dataset, study_frame
from .runner import RunSummary, run_study
from .status import StudyStatus, study_status
from .store import SCHEMA_VERSION, ResultStore
from .units import UnitResult, WorkUnit, plan_units, run_unit

__all__ = [
    "EXECUTORS",
    "FORMATS",
    "ResultStore",
    "RunSummary",
    "SCHEMA_VERSION",
    "Study",
    "StudyStatus",
    "UnitResult",
    "WorkUnit",
    "WorkerLost",
    "export_study",
    "load_study",
    "make_executor",
    "plan_units",
    "run_study",
    "run_unit",
    "study_dataset",
    "study_frame",
    "study_status",
]
