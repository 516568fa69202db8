"""blocks-rx: the class-similarity structure of large classifiers.

Class similarity is the correlation between classes' prediction-score columns over a set of
samples (Alsallakh et al., 2020); ordered with R's ``hclust`` it shows the hierarchies,
split groups and failed groups a classifier has formed.

>>> import numpy as np, blocks_rx
>>> S = np.random.default_rng(0).normal(size=(1000, 8))
>>> sim = blocks_rx.compute_similarity(S)
>>> ordering = blocks_rx.order_classes(sim)          # R-identical hclust, complete linkage
>>> sorted(ordering.order.tolist()) == list(range(8))
True

Importing this package starts no R, imports neither torch nor matplotlib.pyplot.
"""

__version__ = "0.2.0"

import warnings as _warnings

from .comparison import Comparison, compare
from .errors import BlocksInputError
from .explorer import Explorer, explore
from .export import export_csv, export_rds, to_r
from .ordering import Ordering, hclust, order_classes
from .pipeline import Analysis, analyze
from .quality import QualityReport, quality_report
from .r_files import r_scripts_dir
from .results import StoredResult
from .results import read as read_result
from .results import write as write_result
from .scores import Scores, ScoresError, load_scores
from .similarity import Similarity
from .similarity import compute as compute_similarity

__all__ = [
    "Analysis", "BlocksInputError", "Comparison", "Explorer", "explore", "Ordering", "Scores", "ScoresError", "Similarity",
    "StoredResult", "analyze", "compare", "compute_similarity", "export_csv", "export_rds",
    "hclust", "load_scores",
    "order_classes", "r_scripts_dir", "read_result", "to_r", "write_result",
    "QualityReport", "quality_report",
]


def write_outputs(analysis, out_dir, **kwargs):
    """Deprecated name of :func:`write_result`."""
    _warnings.warn("blocks_rx.write_outputs is now blocks_rx.write_result", DeprecationWarning,
                   stacklevel=2)
    return write_result(analysis, out_dir, **kwargs)


def read_outputs(out_dir):
    """Deprecated: :func:`read_result` returns a StoredResult; this returns
    (similarity, ordering, report) as before."""
    _warnings.warn("blocks_rx.read_outputs is now blocks_rx.read_result", DeprecationWarning,
                   stacklevel=2)
    stored = read_result(out_dir)
    return stored.similarity, stored.ordering, stored.report


#: Submodules a user reaches as attributes (``blocks_rx.plot.heatmap``) without importing them
#: first; imported on first use, so ``import blocks_rx`` stays light (no matplotlib, no torch).
_SUBMODULES = ("plot", "groups", "figures", "datasets", "torch", "readers")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
