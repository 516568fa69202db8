"""Matplotlib figures of blocks-rx results. They draw what they are given, never compute.

matplotlib is imported only when a function here is called; figures are standalone
:class:`matplotlib.figure.Figure` objects (no pyplot state), which notebooks display and
``fig.savefig`` writes.
"""

from ._distributions import distributions
from ._heatmap import heatmap

__all__ = ["heatmap", "distributions"]
