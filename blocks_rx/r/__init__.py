"""The R bridge: the only code in blocks-rx that imports rpy2.

R starts lazily, once, on the first call that needs it; importing this package starts
nothing. Conversions always run inside ``localconverter(default_converter + numpy2ri)``.

>>> from blocks_rx import r
>>> isinstance(r.available(), bool)
True
"""

from .session import RError, RUnavailable, RWarning, available, session, versions

__all__ = ["RError", "RUnavailable", "RWarning", "available", "session", "versions"]
