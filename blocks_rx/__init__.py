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

Importing this package imports nothing heavy: each name below is imported on first use
(numpy with the first of them), so ``blocks-rx`` can set up the process before numpy loads
(:func:`blocks_rx.cli.console`). No R starts, neither torch nor matplotlib.pyplot loads.
"""

__version__ = "0.2.0"

import warnings as _warnings

#: The public names, by the module that defines them (and their name there, where it differs).
_EXPORTS = {
    "Analysis": "pipeline", "analyze": "pipeline",
    "BlocksInputError": "errors",
    "Comparison": "comparison", "compare": "comparison",
    "Explorer": "explorer", "explore": "explorer",
    "Ordering": "ordering", "hclust": "ordering", "order_classes": "ordering",
    "QualityReport": "quality", "quality_report": "quality",
    "Scores": "scores", "ScoresError": "scores", "load_scores": "scores",
    "Similarity": "similarity", "compute_similarity": ("similarity", "compute"),
    "StoredResult": "results", "read_result": ("results", "read"),
    "write_result": ("results", "write"),
    "export_csv": "export", "export_rds": "export", "to_r": "export",
    "r_scripts_dir": "r_files",
}

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
    from .results import write

    return write(analysis, out_dir, **kwargs)


def read_outputs(out_dir):
    """Deprecated: :func:`read_result` returns a StoredResult; this returns
    (similarity, ordering, report) as before."""
    _warnings.warn("blocks_rx.read_outputs is now blocks_rx.read_result", DeprecationWarning,
                   stacklevel=2)
    from .results import read

    stored = read(out_dir)
    return stored.similarity, stored.ordering, stored.report


#: Submodules a user reaches as attributes (``blocks_rx.plot.heatmap``) without importing them
#: first; imported on first use, so ``import blocks_rx`` stays light (no matplotlib, no torch).
_SUBMODULES = ("plot", "groups", "figures", "datasets", "torch", "readers")


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        module, attribute = (_EXPORTS[name] if isinstance(_EXPORTS[name], tuple)
                             else (_EXPORTS[name], name))
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value  # imported once: the next lookup finds it here
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
