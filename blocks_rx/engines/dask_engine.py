"""The ``dask`` engine: co-moments per chunk of rows on a ``dask.distributed`` cluster,
merged in a tree with Chan, Golub & LeVeque's pairwise identity.

Each chunk is reduced where it lies, by :class:`~blocks_rx.similarity.CoMoments` (the same
per-block centring as the numpy engine), to (rows, column means, centred co-moments);
two such partials merge exactly into one:

    n = n_a + n_b,  d = mean_b - mean_a,  mean = mean_a + d n_b / n,
    C = C_a + C_b + d d' n_a n_b / n.

Scores that are a dask array (zarr, HDF5, ``.npy`` shards, parquet) are read by the workers,
and the block observers of the one pass (:mod:`blocks_rx.engines.observers`) run there on
each chunk's rows. Anything else (an in-memory array, the column ranks of ``spearman``) is
streamed from this process block by block, with at most a few blocks in flight. All
accumulators share the power-of-two scale of the first rows, so partials merge in one unit.

The cluster is the scheduler named by ``scheduler`` (``tcp://host:port``), or a
``LocalCluster`` of 2 worker processes started for the call and closed after it.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from ..similarity import CoMoments, _scale_exponent, correlation_of
from . import EngineRun

#: Worker processes of the default local cluster.
LOCAL_WORKERS = 2
#: Blocks streamed from this process that may be in flight at once, per worker.
IN_FLIGHT_PER_WORKER = 2


def correlate(source, scheduler: str | None = None) -> EngineRun:
    """Correlation of the source on the dask cluster at ``scheduler`` (default: a local one).

    >>> import dask.array as da
    >>> from blocks_rx.engines import BlockSource
    >>> from blocks_rx.engines.inputs import lazy_scores
    >>> from blocks_rx.similarity import MEASURES
    >>> x = da.random.default_rng(0).normal(size=(60, 3), chunks=(20, 3)) + 50
    >>> run = correlate(BlockSource(lazy_scores(x), MEASURES["pearson"], None, 16))
    >>> bool(np.allclose(run.matrix, np.corrcoef(x.compute(), rowvar=False)))
    True
    """
    with _client(scheduler) as (client, where):
        array = source.dask_array()
        if array is not None:
            (count, _, comoment), how = _reduce_array(client, source, array), "chunks on workers"
        else:
            (count, _, comoment), how = _reduce_stream(client, source), "blocks sent from client"
        workers = len(client.scheduler_info().get("workers", {}))
    if count < 2:
        raise ValueError("correlation needs at least 2 samples")
    matrix, constant = correlation_of(comoment)
    import dask

    return EngineRun(matrix, constant, source.scores.dtype.name,
                     {"scheduler": where, "workers": workers, "reduction": how,
                      "dask": dask.__version__})


@contextlib.contextmanager
def _client(address: str | None):
    """A distributed Client on ``address``, or on a LocalCluster started (and closed) here."""
    from distributed import Client, LocalCluster

    if address is None:
        with LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            yield client, f"LocalCluster ({LOCAL_WORKERS} worker processes)"
        return
    if not isinstance(address, str):
        from ..errors import OptionError

        raise OptionError(f"engine 'dask': scheduler must be an address such as "
                          f"tcp://host:8786, got {address!r}")
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot reach the dask scheduler at {address} ({exc}); start one with "
                      "`dask scheduler`, or leave --dask-scheduler out for a local "
                      "cluster") from None
    with client:
        yield client, address


def _reduce_array(client, source, array):
    """Reduce each chunk of a dask array on the workers, merge the partials in a tree, and
    take back what the observers saw of each chunk."""
    import dask

    per_block, convert = source.measure.per_block, source.convert
    head = np.asarray(array[: min(array.shape[0], 4 * CoMoments.SHIFT_ROWS)],
                      dtype=source.scores.dtype)
    exponent = _scale_exponent(per_block(head, convert))
    context = dask.delayed((source.scores.classes, source.scores.source,
                            source.scores.dtype.name, source.block_size), pure=True)
    bounds = np.cumsum((0,) + tuple(array.chunks[0]))
    partials, seen = [], []
    for chunk, start, stop in zip(array.to_delayed().ravel(), bounds[:-1], bounds[1:]):
        parts = [observer.part(int(start), int(stop)) for observer in source.observers]
        moments, observed = dask.delayed(_chunk_moments, nout=2, pure=True)(
            chunk, int(start), parts, per_block, convert, exponent, context)
        partials.append(moments)
        seen.append(observed)
    futures = client.compute([_tree(partials, dask.delayed(_merge, pure=True))] + seen)
    total, *observed = client.gather(futures)
    for parts in observed:
        for observer, part in zip(source.observers, parts):
            observer.merge(part)
    source.mark_observed()
    return total


def _tree(items, merge):
    """Pairwise merges, level by level, down to one item."""
    while len(items) > 1:
        items = [merge(a, b) for a, b in zip(items[::2], items[1::2])] + items[len(items) & ~1:]
    return items[0]


def _reduce_stream(client, source):
    """Send the source's blocks (read here) to the workers one by one; merge the partials as
    a binary counter does, so only O(log blocks) partials and a few blocks are held."""
    from distributed import wait

    limit = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})))
    stack, pending, exponent = [], [], None
    for block in source.blocks():
        if exponent is None:
            exponent = _scale_exponent(block)
        data = client.scatter(block)
        future = client.submit(_block_moments, data, exponent, pure=False)
        pending.append(future)
        if len(pending) > limit:
            wait(pending.pop(0))
        stack.append((0, future))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (level, b), (_, a) = stack.pop(), stack.pop()
            stack.append((level + 1, client.submit(_merge, a, b, pure=False)))
    if not stack:
        raise ValueError("no rows were added")
    futures = [future for _, future in stack]
    return client.gather(_tree(futures, lambda a, b: client.submit(_merge, a, b, pure=False)))


def _chunk_moments(chunk, start, parts, per_block, convert, exponent, context):
    """(rows, means, co-moments) of one chunk, with the observers' parts fed its rows."""
    from ..scores import _check_finite

    classes, name, dtype, block_size = context
    block = np.asarray(chunk, dtype=dtype)
    _check_finite(block, start, classes, name)
    for part in parts:
        part.observe(start, block)
    moments = CoMoments(block.shape[1], exponent=exponent)
    for at in range(0, block.shape[0], block_size):
        moments.add(per_block(block[at : at + block_size], convert))
    return _result(moments), parts


def _block_moments(block, exponent):
    """(rows, means, co-moments) of one block streamed from the client."""
    moments = CoMoments(block.shape[1], exponent=exponent)
    moments.add(block)
    return _result(moments)


def _result(moments: CoMoments):
    return moments.scaled_result() if moments.count else (0, None, None)


def _merge(a, b):
    """Chan, Golub & LeVeque's merge of two (rows, means, co-moments) partials.

    >>> x = np.arange(10.0).reshape(5, 2) ** 2
    >>> one, two = CoMoments(2, exponent=0), CoMoments(2, exponent=0)
    >>> one.add(x[:2]); two.add(x[2:])
    >>> n, mean, c = _merge(one.scaled_result(), two.scaled_result())
    >>> bool(np.allclose(c / (n - 1), np.cov(x, rowvar=False)))
    True
    """
    (n_a, mean_a, c_a), (n_b, mean_b, c_b) = a, b
    if n_a == 0 or n_b == 0:
        return b if n_a == 0 else a
    n = n_a + n_b
    delta = mean_b - mean_a
    comoment = c_a + c_b
    comoment += np.multiply.outer(delta * (n_a * n_b / n), delta)
    return n, mean_a + delta * (n_b / n), comoment
