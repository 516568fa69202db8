"""Deprecated: the planted generators moved to :mod:`blocks_rx.datasets.planted`."""

import warnings

from .datasets.planted import (TOP_GROUPS, planted_multilabel, planted_overlaps,  # noqa: F401
                               planted_taxonomy)

warnings.warn("blocks_rx.synthetic is now blocks_rx.datasets.planted", DeprecationWarning,
              stacklevel=2)
