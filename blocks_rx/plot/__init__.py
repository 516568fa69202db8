"""Matplotlib figures of blocks-rx results. They draw what they are given, never compute.

matplotlib is imported only when a function here is called; figures are standalone
:class:`matplotlib.figure.Figure` objects (no pyplot state), which notebooks display and
``fig.savefig`` writes.
"""

from ._common import drawable
from ._comparison import comparison
from ._confusion import confusion_comparison, side_by_side
from ._distributions import distributions
from ._frequency import frequency
from ._heatmap import heatmap, ordered_matrix
from ._layers import layer_heatmaps
from ._samples import class_samples
from ._groups import groups_heatmap, memberships

__all__ = ["drawable", "heatmap", "ordered_matrix", "distributions", "frequency", "confusion_comparison",
           "side_by_side", "class_samples", "layer_heatmaps", "groups_heatmap", "memberships",
           "comparison"]
