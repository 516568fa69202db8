"""Compute engines: what multiplies the blocks of scores into co-moments, by name.

Every engine reads the same :class:`BlockSource` (the scores, the measure, the transform, the
block size and the observers of the one pass) and returns an :class:`EngineRun` (the
correlation matrix, the zero-variance classes, the precision and what it ran on). All use
the numerically safe centring of :class:`~blocks_rx.similarity.CoMoments` (each block
centred near its own mean, merged in float64 with Chan, Golub & LeVeque's identity), so they
agree to 1e-5 (1e-3 with TF32 matmuls on a GPU, recorded in ``engine_detail``):

``numpy``
    This process, the BLAS numpy links (the default).
``torch``
    float32 GEMMs on the CPU or a CUDA device; blocks stream host -> device.
``dask``
    A ``dask.distributed`` cluster (the scheduler you name, or a local one with two worker
    processes); per-chunk co-moments merged in a tree, where the chunks lie.

An engine whose package is missing is refused at once, naming what to install.

>>> ENGINES["torch"].options[0].name
'device'
>>> sorted(ENGINES)
['dask', 'numpy', 'torch']
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..registry import Entry, Option, Registry
from .source import BlockSource


@dataclass(frozen=True)
class EngineRun:
    """What an engine returns: the float64 correlation matrix, the zero-variance mask, the
    precision the GEMMs ran in, and plain facts about where it ran."""

    matrix: np.ndarray
    constant: np.ndarray
    dtype: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Engine(Entry):
    """A compute engine: ``function(source: BlockSource, **options) -> EngineRun``.

    ``requires`` are the modules it imports, ``install`` what to pip install for them;
    ``cell_bytes`` is what it holds on this machine per cell of the m x m matrix beyond
    the numpy engine (the preflight adds ``cell_bytes * m^2``). ``checks_finite``: scores
    held in memory are not checked for NaN and infinity when they are loaded, but by the
    engine as it reads them (:attr:`BlockSource.rows_as_read`).
    """

    requires: tuple[str, ...] = ()
    install: str = ""
    runs_on: str = ""
    cell_bytes: float = 0.0
    checks_finite: bool = False

    def require(self) -> None:
        """Raise :class:`OptionError` naming what to install when a module is missing.

        >>> ENGINES["numpy"].require()
        """
        missing = [name for name in self.requires if importlib.util.find_spec(name) is None]
        if missing:
            raise OptionError(f"engine {self.name!r} needs {', '.join(missing)}, which "
                              f"{'is' if len(missing) == 1 else 'are'} not installed: "
                              f"pip install {self.install}")


def _numpy(source, **options):
    from .numpy_engine import correlate

    return correlate(source, **options)


def _torch(source, **options):
    from .torch_engine import correlate

    return correlate(source, **options)


def _dask(source, **options):
    from .dask_engine import correlate

    return correlate(source, **options)


#: Compute engines by name.
ENGINES: Registry[Engine] = Registry("engine")
ENGINES.register(Engine(
    "numpy", _numpy, "numpy GEMMs in this process (the default).", runs_on="this process"))
ENGINES.register(Engine(
    "torch", _torch, "torch float32 GEMMs on the CPU or a CUDA GPU, blocks streamed host to "
    "device.",
    (Option("device", "auto", "where the torch engine runs: cpu, cuda, or auto (cuda when "
            "torch sees a GPU)", choices=("auto", "cpu", "cuda")),),
    requires=("torch",), install="'blocks-rx[torch]'", runs_on="cpu or cuda",
    # On a GPU, checking 2.75 GB of scores on the host first took longer than the whole job.
    checks_finite=True))
ENGINES.register(Engine(
    "dask", _dask, "a dask.distributed cluster: per-chunk co-moments merged in a tree.",
    (Option("scheduler", None, "address of a running dask scheduler, e.g. tcp://host:8786 "
            "(default: a local cluster of 2 worker processes)", metavar="ADDRESS"),),
    requires=("dask", "distributed"), install="'blocks-rx[dask]'",
    runs_on="dask.distributed cluster",
    # The client receives the merged float64 co-moments (8 m^2); a local cluster's 2 workers
    # each hold up to three float64 m x m partials while merging (2 x 24 m^2).
    cell_bytes=56.0))

__all__ = ["ENGINES", "BlockSource", "Engine", "EngineRun"]
