"""Deprecated: the langid demo moved to :mod:`blocks_rx.datasets.langid`."""

import warnings

from .datasets.langid import (CACHE_NAME, MIN_NAMES, SEED, TEXTS_PER_LANGUAGE,  # noqa: F401
                              WORDS_PER_TEXT, default_cache_dir, load_langid_demo)

warnings.warn("blocks_rx.demo is now blocks_rx.datasets.langid", DeprecationWarning, stacklevel=2)
