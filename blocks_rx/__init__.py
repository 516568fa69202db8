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

__version__ = "0.1.0"

from .analysis import Analysis, analyze, read_outputs, write_outputs
from .export import export_csv, export_rds, to_r
from .ordering import Ordering, hclust, order_classes
from .scores import Scores, ScoresError, load_scores
from .similarity import Similarity
from .similarity import compute as compute_similarity

__all__ = [
    "Analysis", "Ordering", "Scores", "ScoresError", "Similarity",
    "analyze", "compute_similarity", "export_csv", "export_rds", "hclust", "load_scores",
    "order_classes", "read_outputs", "to_r", "write_outputs",
]
