"""From a trained PyTorch model and a DataLoader to blocks-rx results, in one call.

:func:`collect` runs the model in inference mode over a loader and keeps what the analysis
needs: the logits (n x m), softmax probabilities or multi-label sigmoids, predictions,
targets, the confusion (or label co-occurrence) matrix, one thumbnail per class and, for
chosen layers, the per-class mean activation. :func:`layer_structure` turns those means into
one class-similarity matrix per layer, ordered like the output's and scored by how closely
each one agrees with it: the layer-wise view the paper names as future work.

This module is imported only by those who ask for it (``import blocks_rx.torch``);
``import blocks_rx`` never imports torch.

>>> import torch
>>> from blocks_rx.torch import collect
>>> model = torch.nn.Linear(4, 3)
>>> data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(2)]
>>> result = collect(model, data, classes=["cat", "dog", "owl"])
>>> result.logits.shape, int(result.confusion.sum())
((16, 3), 16)
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "blocks_rx.torch needs PyTorch: pip install 'blocks-rx[torch]' "
        "(the rest of blocks_rx works without it)") from exc

from .ordering import Ordering, hclust
from .scores import Scores, load_scores
from .similarity import CoMoments, Similarity, compute, confusion_matrix, cooccurrence_matrix
from ._warn import warn_caller

__all__ = ["Collected", "LayerStructure", "collect", "layer_similarity", "layer_structure",
           "load"]

#: Version of the ``.npz`` layout written by :meth:`Collected.save`.
FORMAT_VERSION = 1

#: Measures of how closely a layer's class similarity agrees with the output's.
AGREEMENT_MEASURES = {
    "spearman": "Spearman correlation between the upper triangles (off-diagonal class pairs) "
                "of the layer's and the output's similarity matrices",
    "cophenetic": "Pearson correlation between the cophenetic distances of the layer's and "
                  "the output's hclust trees",
}


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class Collected:
    """What :func:`collect` kept from one pass of a model over a dataset.

    Attributes
    ----------
    logits : ndarray, float32 (n, m)
        The model's raw outputs, one row per sample: the score matrix.
    probabilities : ndarray, float32 (n, m)
        Softmax of the logits, or independent sigmoids when ``multilabel``.
    predictions : ndarray
        Top-1 class indices, int64 (n,); for multi-label data a 0/1 uint8 matrix (n, m)
        of the labels whose logit is above 0 (sigmoid above 0.5).
    classes : tuple of str
    multilabel : bool
    targets : ndarray or None
        Class indices, int64 (n,), or a multi-hot uint8 matrix (n, m); None when the
        loader yielded inputs only.
    confusion : ndarray, int64 (m, m) or None
        ``C[true, predicted]`` (single-label data with targets).
    cooccurrence : ndarray, int64 (m, m) or None
        Label co-occurrence counts of the targets (multi-label data with targets).
    assignment : {"targets", "predictions"}
        Which classes the thumbnails and per-class activation means were assigned by:
        the targets when the loader gave them, else the model's predictions.
    class_counts : ndarray, int64 (m,)
        Samples assigned to each class (a multi-label sample counts for each of its labels).
    layer_means : dict of str to ndarray, float64 (m, d)
        Per layer, each class's mean activation; feature maps of shape (C, *spatial) are
        averaged over space first, so ``d = C``. Rows of classes with no samples are NaN.
    layer_shapes : dict of str to tuple of int
        Each layer's output shape per sample, before spatial averaging.
    thumbnails : dict of int to ndarray
        For image inputs (3-D or 4-D batches), the first input seen of each class, as
        fed to the model (after the loader's transforms).
    metadata : dict
        Provenance: model class, device, amp, seconds, torch version, whether the model
        was moved.
    """

    logits: np.ndarray = field(repr=False)
    probabilities: np.ndarray = field(repr=False)
    predictions: np.ndarray = field(repr=False)
    classes: tuple[str, ...]
    multilabel: bool = False
    targets: np.ndarray | None = field(default=None, repr=False)
    confusion: np.ndarray | None = field(default=None, repr=False)
    cooccurrence: np.ndarray | None = field(default=None, repr=False)
    assignment: str = "predictions"
    class_counts: np.ndarray | None = field(default=None, repr=False)
    layer_means: dict = field(default_factory=dict, repr=False)
    layer_shapes: dict = field(default_factory=dict)
    thumbnails: dict = field(default_factory=dict, repr=False)
    metadata: dict = field(default_factory=dict, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.logits.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the layers whose class means were collected, in the order given."""
        return tuple(self.layer_means)

    @property
    def kind(self) -> str:
        """The score kind :meth:`to_scores` gives by default."""
        return "multilabel" if self.multilabel else "logits"

    def to_scores(self, kind: str | None = None) -> Scores:
        """The scores as a :class:`blocks_rx.scores.Scores`, with the targets as labels.

        Parameters
        ----------
        kind : {"logits", "probabilities", "multilabel"}, optional
            Default: ``logits`` (the raw outputs, the paper's default) for single-label
            models; ``multilabel`` (the sigmoids) for multi-label ones. ``logits`` on a
            multi-label model gives its raw outputs, as the paper's AudioSet figure uses.

        Examples
        --------
        >>> import torch, blocks_rx
        >>> data = [torch.randn(20, 4)]
        >>> scores = collect(torch.nn.Linear(4, 3), data).to_scores()
        >>> scores.kind, scores.n_classes
        ('logits', 3)
        >>> blocks_rx.compute_similarity(scores).matrix.shape
        (3, 3)
        """
        kind = kind or self.kind
        if kind == "logits":
            values = self.logits
        elif kind == ("multilabel" if self.multilabel else "probabilities"):
            values = self.probabilities
        else:
            expected = "multilabel" if self.multilabel else "probabilities"
            raise ValueError(f"a {'multi' if self.multilabel else 'single'}-label collection "
                             f"gives kind 'logits' or {expected!r}, not {kind!r}")
        scores = load_scores(values, classes=self.classes, kind=kind, labels=self.targets)
        return replace(scores, source=self.metadata.get("source", "<collected>"))

    def save(self, path) -> Path:
        """Write everything to one ``.npz``, readable by :func:`blocks_rx.load_scores`.

        Keys: ``scores`` (what :meth:`to_scores` gives), ``classes``, ``labels`` (the
        targets, when present): exactly what ``load_scores`` and ``blocks-rx analyze``
        read; plus ``logits``, ``probabilities``, ``predictions``, ``confusion`` or
        ``cooccurrence``, ``class_counts``, ``layer_means_<i>``, ``thumbnail_<class>`` and
        ``metadata`` (a JSON string naming the layers, shapes, score kind and provenance).
        Written to a temporary name and renamed, so a failure leaves no partial file.

        Examples
        --------
        >>> import tempfile, torch, blocks_rx
        >>> result = collect(torch.nn.Linear(4, 3), [torch.randn(10, 4)])
        >>> path = result.save(tempfile.mkdtemp() + "/scores.npz")
        >>> blocks_rx.load_scores(path).classes
        ('class_0', 'class_1', 'class_2')
        >>> load(path).logits.shape
        (10, 3)
        """
        path = Path(path)
        if path.suffix.lower() != ".npz":
            raise ValueError(f"{path}: save writes an .npz file; give the path that suffix")
        arrays = {
            "scores": self.probabilities if self.multilabel else self.logits,
            "classes": np.array(self.classes, dtype=str),
            "logits": self.logits,
            "probabilities": self.probabilities,
            "predictions": self.predictions,
        }
        if self.class_counts is not None:
            arrays["class_counts"] = self.class_counts
        if self.targets is not None:
            arrays["labels"] = self.targets
        for name in ("confusion", "cooccurrence"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        for i, means in enumerate(self.layer_means.values()):
            arrays[f"layer_means_{i}"] = means
        for j, image in self.thumbnails.items():
            arrays[f"thumbnail_{j}"] = image
        meta = {
            "format": "blocks-rx collected", "format_version": FORMAT_VERSION,
            "kind": self.kind, "multilabel": self.multilabel, "assignment": self.assignment,
            "layers": list(self.layer_means),
            "layer_shapes": {k: list(v) for k, v in self.layer_shapes.items()},
            "thumbnail_classes": sorted(int(j) for j in self.thumbnails),
            **self.metadata,
        }
        arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A plain open() (not mkstemp, which makes 0600 files) keeps the user's umask.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return path


def load(path) -> Collected:
    """Read a :class:`Collected` written by :meth:`Collected.save`.

    >>> import tempfile, torch
    >>> path = collect(torch.nn.Linear(4, 3), [torch.randn(10, 4)]).save(
    ...     tempfile.mkdtemp() + "/c.npz")
    >>> load(path).n_classes
    3
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as archive:
        if "metadata" not in archive.files:
            raise ValueError(f"{path}: not written by Collected.save (no 'metadata' entry)")
        meta = json.loads(str(archive["metadata"]))
        if meta.get("format") != "blocks-rx collected":
            raise ValueError(f"{path}: not written by Collected.save")
        get = lambda key: archive[key] if key in archive.files else None  # noqa: E731
        layers = meta.pop("layers")
        shapes = meta.pop("layer_shapes")
        thumbs = meta.pop("thumbnail_classes")
        result = Collected(
            logits=archive["logits"], probabilities=archive["probabilities"],
            predictions=archive["predictions"],
            classes=tuple(str(c) for c in archive["classes"]),
            multilabel=bool(meta.pop("multilabel")), targets=get("labels"),
            confusion=get("confusion"), cooccurrence=get("cooccurrence"),
            assignment=meta.pop("assignment"), class_counts=get("class_counts"),
            layer_means={name: archive[f"layer_means_{i}"] for i, name in enumerate(layers)},
            layer_shapes={name: tuple(shape) for name, shape in shapes.items()},
            thumbnails={int(j): archive[f"thumbnail_{j}"] for j in thumbs},
            metadata={k: v for k, v in meta.items()
                      if k not in ("format", "format_version", "kind")},
        )
    return result


# --------------------------------------------------------------------------- collecting


def collect(
    model,
    loader,
    *,
    device=None,
    layers=None,
    multilabel: bool = False,
    keep_thumbnails: bool = True,
    amp: bool = False,
    classes=None,
    progress: bool | None = None,
) -> Collected:
    """Run a model over a dataset and keep scores, labels and per-class layer means.

    Parameters
    ----------
    model : torch.nn.Module
        Run in eval mode under ``torch.inference_mode()``; its train/eval flags (every
        submodule's) are restored afterwards, even on error.
    loader : iterable of batches
        A DataLoader or any iterable. A batch is the inputs (a tensor; a tuple/list of
        tensors, passed as ``model(*inputs)``; or a dict, passed as ``model(**inputs)``),
        or a pair ``(inputs, targets)``. Targets are class indices (B,) or, with
        ``multilabel=True``, multi-hot vectors (B, m).
    device : str or torch.device, optional
        Where to run. Default: where the model's parameters are. If the model must be
        moved there, it is moved back to its original device afterwards (even on error).
    layers : sequence of str, optional
        Module names as in ``model.named_modules()`` whose output is averaged per class.
        Outputs of shape (B, C, *spatial) are averaged over space (channels-first, as torch
        convolutions produce); a tuple output uses its first tensor. Forward hooks are
        registered for the run and always removed afterwards.
    multilabel : bool
        Independent sigmoids per class; the targets are multi-hot; the label
        co-occurrence matrix replaces the confusion matrix.
    keep_thumbnails : bool
        Keep the first input of each class when inputs are image batches (3-D or 4-D).
    amp : bool
        Run under ``torch.autocast`` (float16 on CUDA, bfloat16 on CPU); scores are kept
        as float32 either way.
    classes : sequence of str, optional
        Class names, one per output column; default ``class_0, class_1, ...``.
    progress : bool, optional
        Show a tqdm progress bar on stderr. Default: only when stderr is a terminal (and
        only for runs longer than a second).

    Returns
    -------
    Collected
        Memory grows with the number of samples times classes (scores, targets); the
        layer activations are reduced to running per-class sums and counts batch by batch.

    Raises
    ------
    ValueError
        For unknown layer names, targets that do not match the outputs, an empty loader.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> data = [(torch.randn(16, 4), torch.randint(0, 3, (16,))) for _ in range(3)]
    >>> result = collect(model, data, layers=["1"])
    >>> result.layer_means["1"].shape, result.assignment
    ((3, 8), 'targets')
    >>> all(not m._forward_hooks for m in model.modules())
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"collect needs a torch.nn.Module, got {type(model).__name__}")
    layers = _check_layers(model, layers)
    started = time.perf_counter()
    target_device, home, moved = _choose_device(model, device)
    state = _Accumulator(layers, keep_thumbnails, multilabel)
    _run_batches(model, loader, state, target_device, home=home, moved=moved, amp=amp,
                 progress=progress)
    if state.n == 0:
        raise ValueError("the loader yielded no batches (or only empty ones)")
    metadata = _run_metadata(model, target_device, home, moved, amp, started, state.n)
    return state.result(classes, metadata)


def _choose_device(model, device):
    """Where to run, where the model lives now, and whether it must move there for the run."""
    home = _model_device(model)
    target_device = torch.device(device) if device is not None else (home or torch.device("cpu"))
    moved = _needs_move(model, home, target_device)
    if not moved and home is not None:
        target_device = home  # "cuda" for a model on cuda:1 means cuda:1, not the default
    return target_device, home, moved


def _run_batches(model, loader, state, target_device, *, home, moved, amp, progress):
    """Feed every batch to ``state`` with the model in eval mode, then restore the model."""
    # Restored in `finally`: the caller's model must come back as it went in.
    training = {module: module.training for module in model.modules()}
    hooks = []
    captured: dict[str, tuple] = {}
    batches = loader
    try:
        if moved:
            model.to(target_device)
        model.eval()
        _register_hooks(model, state.layers, captured, hooks)
        autocast = _autocast(target_device, amp)
        with torch.inference_mode():
            batches = _progress(loader, progress)
            _feed_batches(model, batches, target_device, autocast, captured, state)
    finally:
        _restore_model(model, hooks, home, moved, training)
        if batches is not loader:
            batches.close()  # a progress bar left open after an error


def _register_hooks(model, layers, captured, hooks):
    """Hook each layer so its reduced output lands in ``captured``; handles go in ``hooks``."""
    # Appended one by one, not returned: if a later layer fails, the caller still removes
    # the hooks already registered.
    for name in layers:
        module = model.get_submodule(name)
        hooks.append(module.register_forward_hook(_capture(name, captured)))


def _feed_batches(model, batches, target_device, autocast, captured, state):
    """Run the model on each batch and add its scores, targets and activations to ``state``."""
    for batch in batches:
        inputs, targets = _split_batch(batch)
        inputs = _to_device(inputs, target_device)
        captured.clear()  # the hooks refuse a layer captured twice in one batch
        with autocast:
            output = _call(model, inputs)
        logits = _output_tensor(output).float()
        state.add(logits, targets, inputs, captured)


def _restore_model(model, hooks, home, moved, training):
    """Remove the hooks, move the model back home and reset each module's train/eval flag."""
    for hook in hooks:
        hook.remove()
    if moved:
        model.to(home)
    # Pre-order (parents first): train() recurses, so each child's own flag wins.
    for module, flag in training.items():
        module.train(flag)


def _run_metadata(model, target_device, home, moved, amp, started, n_samples) -> dict:
    """Provenance of one run, kept as :attr:`Collected.metadata`."""
    return {
        "model": type(model).__name__, "device": str(target_device), "amp": bool(amp),
        "model_moved": (f"moved from {home} to {target_device} for the run and back"
                        if moved else None),
        "torch": torch.__version__, "seconds": round(time.perf_counter() - started, 4),
        "n_samples": n_samples,
        "source": f"<{type(model).__name__} collected on {target_device}>",
        "activation_reduction": "mean over spatial dims (2, 3, ...) of channels-first outputs",
    }


class _Accumulator:
    """Scores per batch (kept, n x m), activations as running per-class sums (not kept)."""

    def __init__(self, layers, keep_thumbnails, multilabel):
        self.layers, self.keep_thumbnails, self.multilabel = layers, keep_thumbnails, multilabel
        self.logits, self.targets = [], []
        self.has_targets = None
        self.m = None
        self.n = 0
        self.sums, self.shapes = {}, {}
        self.counts = None
        self.thumbnails = {}

    def add(self, logits, targets, inputs, captured):
        if logits.ndim != 2:
            raise ValueError(f"the model's output has shape {tuple(logits.shape)}; expected "
                             "(batch, classes) scores")
        b, m = logits.shape
        if b == 0:
            return
        if self.m is None:
            self.m = m
            self.has_targets = targets is not None
            self.counts = torch.zeros(m, dtype=torch.float64, device=logits.device)
        elif m != self.m:
            raise ValueError(f"batch {len(self.logits)} gave {m} output columns, earlier "
                             f"batches {self.m}")
        if (targets is not None) != self.has_targets:
            raise ValueError(f"batch {len(self.logits)} {'has' if targets is not None else 'lacks'}"
                             " targets, unlike the first batch; give all batches or none")
        if targets is not None:
            targets = self._check_targets(targets, b, m).to(logits.device)
            self.targets.append(targets.cpu())
        self.logits.append(logits.cpu())
        # Per-class weights of each sample: one-hot of the assigned class (or its labels).
        if targets is not None:
            assigned = targets
        elif self.multilabel:
            assigned = (logits > 0).to(torch.uint8)
        else:
            assigned = logits.argmax(dim=1)
        weights = (assigned.double() if self.multilabel
                   else torch.nn.functional.one_hot(assigned, m).double())
        self.counts += weights.sum(dim=0)
        for name in self.layers:
            if name not in captured:
                raise RuntimeError(f"layer {name!r} did not run in batch {len(self.logits) - 1}; "
                                   "collect only layers the forward pass uses")
            flat, shape = captured[name]
            if flat.shape[0] != b:
                raise ValueError(f"layer {name!r} gave {flat.shape[0]} rows for a batch of {b}; "
                                 "only layers with a leading batch dimension can be averaged")
            self.shapes.setdefault(name, shape)
            total = weights.T @ flat
            if name in self.sums:
                if self.sums[name].shape != total.shape:
                    raise ValueError(f"layer {name!r} changed its feature size from "
                                     f"{self.sums[name].shape[1]} to {total.shape[1]}")
                self.sums[name] += total
            else:
                self.sums[name] = total
        if self.keep_thumbnails and isinstance(inputs, torch.Tensor) and inputs.ndim in (3, 4):
            present = weights > 0
            for j in torch.nonzero(present.any(dim=0)).flatten().tolist():
                if j not in self.thumbnails:
                    first = int(torch.nonzero(present[:, j])[0])
                    self.thumbnails[j] = inputs[first].detach().float().cpu().numpy()
        self.n += b

    def _check_targets(self, targets, b, m):
        targets = torch.as_tensor(targets)
        if targets.shape[0] != b:
            raise ValueError(f"batch {len(self.logits)}: {targets.shape[0]} targets for "
                             f"{b} inputs")
        if self.multilabel:
            if targets.ndim != 2 or targets.shape[1] != m:
                raise ValueError(f"multilabel targets must be multi-hot (batch, {m}); batch "
                                 f"{len(self.logits)} has shape {tuple(targets.shape)}")
            if not ((targets == 0) | (targets == 1)).all():
                raise ValueError(f"batch {len(self.logits)}: multi-hot targets must hold "
                                 "only 0 and 1")
            return targets.to(torch.uint8)
        if targets.ndim != 1:
            raise ValueError(f"batch {len(self.logits)}: targets of shape {tuple(targets.shape)};"
                             " single-label targets are class indices (batch,). Multi-hot "
                             "targets need multilabel=True")
        if targets.is_floating_point() and not torch.equal(targets, targets.round()):
            raise ValueError(f"batch {len(self.logits)}: targets must be whole class indices")
        targets = targets.long()
        bad = (targets < 0) | (targets >= m)
        if bad.any():
            row = int(torch.nonzero(bad)[0])
            raise ValueError(f"batch {len(self.logits)}, row {row}: target {int(targets[row])} "
                             f"is outside 0..{m - 1} (the model has {m} outputs)")
        return targets

    def result(self, classes, metadata) -> Collected:
        logits = torch.cat(self.logits).numpy().astype(np.float32, copy=False)
        m = logits.shape[1]
        if classes is None:
            classes = tuple(f"class_{j}" for j in range(m))
        else:
            classes = tuple(str(c) for c in classes)
            if len(classes) != m:
                raise ValueError(f"{len(classes)} class names for {m} model outputs")
            if len(set(classes)) != m:
                raise ValueError("class names must be unique")
        targets = torch.cat(self.targets).numpy() if self.has_targets else None
        if self.multilabel:
            from .scores import sigmoid

            probabilities = sigmoid(logits.astype(np.float64)).astype(np.float32)
            predictions = (logits > 0).astype(np.uint8)
        else:
            from .scores import softmax

            probabilities = softmax(logits.astype(np.float64)).astype(np.float32)
            predictions = logits.argmax(axis=1).astype(np.int64)
        confusion = cooccurrence = None
        if targets is not None:
            if self.multilabel:
                cooccurrence = cooccurrence_matrix(targets)
            else:
                confusion = confusion_matrix(targets, predictions, m)
        counts = self.counts.cpu().numpy()
        means = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for name in self.layers:
                # A class with no samples has no mean: NaN, reported by name downstream.
                means[name] = self.sums[name].cpu().numpy() / counts[:, None]
        return Collected(
            logits=logits, probabilities=probabilities, predictions=predictions,
            classes=classes, multilabel=self.multilabel, targets=targets,
            confusion=confusion, cooccurrence=cooccurrence,
            assignment="targets" if self.has_targets else "predictions",
            class_counts=np.rint(counts).astype(np.int64), layer_means=means,
            layer_shapes=dict(self.shapes), thumbnails=dict(sorted(self.thumbnails.items())),
            metadata=metadata,
        )


def _check_layers(model, layers) -> list[str]:
    if layers is None:
        return []
    if isinstance(layers, str):
        layers = [layers]
    names = dict(model.named_modules())
    layers = list(dict.fromkeys(layers))
    missing = [name for name in layers if name not in names]
    if missing:
        known = [n for n in names if n][:20]
        raise ValueError(f"no module named {', '.join(map(repr, missing))} in "
                         f"{type(model).__name__}; names as in model.named_modules(), "
                         f"e.g. {', '.join(map(repr, known))}")
    return layers


def _capture(name, captured):
    def hook(module, args, output):
        if name in captured:
            # A module called twice per forward (shared weights) has no single activation.
            raise RuntimeError(f"layer {name!r} ran more than once in one forward pass; "
                               "collect a module that runs once per batch")
        captured[name] = _reduce(_output_tensor(output, f"layer {name!r}").detach())
    return hook


def _reduce(act):
    """(B, C, *spatial) -> (B, C) spatial means, as a new float64 tensor, plus the shape.

    Reduced inside the hook, not after the forward pass: a later in-place operation
    (``ReLU(inplace=True)``, as in torchvision's ResNets) would otherwise overwrite the
    captured output, and the full feature map would be held until the batch ends.
    """
    shape = tuple(act.shape[1:])
    if act.ndim > 2:
        flat = act.float().reshape(act.shape[0], act.shape[1], -1).mean(dim=2)
    else:
        flat = act.reshape(act.shape[0], -1)
    return flat.to(torch.float64), shape  # float64 from float32 is always a copy


def _output_tensor(output, what="the model"):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    for attribute in ("logits",):  # e.g. Hugging Face model outputs
        value = getattr(output, attribute, None)
        if isinstance(value, torch.Tensor):
            return value
    raise TypeError(f"{what} returned a {type(output).__name__}; expected a tensor")


def _model_device(model):
    devices = {t.device for t in model.parameters()} | {t.device for t in model.buffers()}
    if len(devices) > 1:
        return None  # spread over devices (model parallel): never move it
    return devices.pop() if devices else None


def _needs_move(model, home, target) -> bool:
    if home is None:
        if any(True for _ in model.parameters()):
            spread = sorted({str(p.device) for p in model.parameters()})
            raise ValueError(f"the model's parameters lie on several devices ({', '.join(spread)});"
                             " collect cannot move such a model: place it yourself and give "
                             "device= the device its inputs go to")
        return False
    same = home.type == target.type and (
        target.index is None or home.index is None or home.index == target.index)
    return not same


def _autocast(device, amp):
    if not amp:
        from contextlib import nullcontext

        return nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _split_batch(batch):
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return batch[0], None
        if len(batch) == 2:
            return batch[0], batch[1]
        raise ValueError(f"a batch is the inputs or (inputs, targets); got a {len(batch)}-tuple")
    return batch, None


def _to_device(inputs, device):
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device, non_blocking=True)
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_to_device(x, device) for x in inputs)
    if isinstance(inputs, dict):
        return {k: _to_device(v, device) for k, v in inputs.items()}
    return inputs


def _call(model, inputs):
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)


def _progress(loader, progress):
    if progress is None:
        progress = sys.stderr is not None and sys.stderr.isatty()
    if not progress:
        return loader
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a convenience; never fail for it
        return loader
    try:
        total = len(loader)
    except TypeError:
        total = None
    # delay: short runs finish before a bar would appear.
    return tqdm(loader, total=total, desc="blocks-rx collect", unit="batch", delay=1.0,
                leave=False, file=sys.stderr)


# --------------------------------------------------------------------------- layer structure


def layer_similarity(collected: Collected, layer: str, *, center: bool = False) -> Similarity:
    """Class similarity of one layer: Pearson correlation between classes' mean activations.

    ``M[j1, j2]`` is the Pearson correlation, over the layer's features (channels after
    spatial averaging), between the mean activation vectors of classes ``j1`` and ``j2``,
    i.e. ``np.corrcoef(collected.layer_means[layer])``. Classes with no samples, or whose
    mean vector is constant, have no correlation: their rows are 0 off the diagonal and
    they are named in ``constant_classes`` (with a warning).

    The returned :class:`~blocks_rx.similarity.Similarity` has ``kind="activations"``,
    and its ``n_samples`` is the number of features correlated over.

    Parameters
    ----------
    collected : Collected
    layer : str
        A name in ``collected.layers``.
    center : bool
        Subtract each feature's mean over the classes before correlating (``transform``
        is then ``"center-features"``). Off by default. Early layers' mean activations
        (non-negative after ReLU) share one profile, so their raw correlations all lie
        near 1; centring correlates how each class *departs* from that profile instead,
        as per-sample centring does for logits.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> data = [(torch.randn(30, 4), torch.arange(30) % 3)]
    >>> sim = layer_similarity(collect(model, data, layers=["0"]), "0")
    >>> sim.matrix.shape, sim.n_samples
    ((3, 3), 8)
    """
    if layer not in collected.layer_means:
        raise ValueError(f"layer {layer!r} was not collected; collected: "
                         f"{', '.join(collected.layer_means) or 'none'}")
    started = time.perf_counter()
    means = np.asarray(collected.layer_means[layer], dtype=np.float64)
    empty = ~np.isfinite(means).all(axis=1)
    d = means.shape[1]
    if d < 2:
        raise ValueError(f"layer {layer!r} has {d} feature(s); correlation needs at least 2")
    # Features play the role of samples: the same streaming co-moments as for scores.
    moments = CoMoments(collected.n_classes)
    filled = np.where(empty[:, None], 0.0, means)
    if center and (~empty).any():
        filled[~empty] -= filled[~empty].mean(axis=0)
    moments.add(filled.T.copy())
    matrix, constant = moments.correlation()
    no_corr = constant | empty
    matrix[no_corr, :] = 0.0
    matrix[:, no_corr] = 0.0
    np.fill_diagonal(matrix, 1.0)
    names = tuple(collected.classes[j] for j in np.flatnonzero(no_corr))
    if names:
        why = []
        if empty.any():
            shown = ", ".join(repr(collected.classes[j]) for j in np.flatnonzero(empty)[:10])
            why.append(f"no samples assigned ({shown})")
        if (constant & ~empty).any():
            shown = ", ".join(repr(collected.classes[j])
                              for j in np.flatnonzero(constant & ~empty)[:10])
            why.append(f"a constant mean activation ({shown})")
        warn_caller(f"layer {layer!r}: {len(names)} class(es) have no correlation: "
                    + "; ".join(why) + ". Their rows are set to 0.")
    return Similarity(
        matrix=matrix.astype(np.float32), classes=collected.classes, measure="pearson",
        kind="activations", transform="center-features" if center else "none", n_samples=d,
        constant_classes=names, dtype="float64",
        source=f"layer {layer!r}: per-class mean activations ({d} features, classes by "
               f"{collected.assignment})",
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True, eq=False)
class LayerStructure:
    """Class similarity per layer, in one common order, with each layer's agreement.

    Attributes
    ----------
    output : Similarity
        Class similarity of the output scores (the paper's Eq. 1).
    ordering : Ordering
        hclust order of ``output``: the one order every matrix is drawn in.
    layers : dict of str to Similarity
        Each collected layer's class similarity (:func:`layer_similarity`).
    agreement : dict of str to float
        Per layer, how closely its similarity agrees with the output's (see ``measure``).
    measure : str
        Name of the agreement measure, a key of :data:`AGREEMENT_MEASURES`.
    assignment : str
        Which classes the layer means were assigned by (targets or predictions).
    """

    output: Similarity
    ordering: Ordering
    layers: dict = field(repr=False)
    agreement: dict
    measure: str = "spearman"
    assignment: str = "targets"

    @property
    def description(self) -> str:
        """One sentence saying what the agreement numbers are."""
        return AGREEMENT_MEASURES[self.measure]


def layer_structure(
    collected: Collected,
    *,
    similarity: Similarity | None = None,
    ordering: Ordering | None = None,
    measure: str = "spearman",
    linkage: str = "complete",
    distance: str = "1-r",
    center: bool = False,
) -> LayerStructure:
    """Class similarity of every collected layer, compared with the output's.

    Parameters
    ----------
    collected : Collected
        From :func:`collect` with ``layers=``.
    similarity : Similarity, optional
        The output similarity; default Pearson on ``collected.to_scores()``.
    ordering : Ordering, optional
        The common order; default R-identical hclust of the output similarity.
    measure : {"spearman", "cophenetic"}
        Agreement of a layer with the output. ``spearman`` (default): Spearman correlation
        between the m(m-1)/2 off-diagonal values of the layer's and the output's matrices;
        rank-based, so it compares which class pairs are more alike, not the layers'
        different correlation scales. ``cophenetic``: Pearson correlation between the
        cophenetic distances of the two matrices' hclust trees (same linkage, distance).
    linkage, distance : str
        For the hclust orderings (see :func:`blocks_rx.ordering.hclust`).
    center : bool
        Centre each feature over the classes first (see :func:`layer_similarity`).

    Returns
    -------
    LayerStructure

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> data = [(torch.randn(60, 4), torch.arange(60) % 3)]
    >>> structure = layer_structure(collect(model, data, layers=["0", "1"]))
    >>> list(structure.agreement), structure.measure
    (['0', '1'], 'spearman')
    """
    if measure not in AGREEMENT_MEASURES:
        raise ValueError(f"unknown agreement measure {measure!r}; choose one of "
                         f"{', '.join(AGREEMENT_MEASURES)}")
    if not collected.layer_means:
        raise ValueError("no layers were collected: pass layers=[...] to collect()")
    if similarity is None:
        similarity = compute(collected.to_scores())
    if tuple(similarity.classes) != collected.classes:
        raise ValueError("the output similarity is for different classes than the collection")
    if ordering is None:
        ordering = hclust(similarity, linkage=linkage, distance=distance)
    layers = {name: layer_similarity(collected, name, center=center)
              for name in collected.layer_means}
    agreement = {name: _agreement(sim, similarity, measure, linkage, distance)
                 for name, sim in layers.items()}
    return LayerStructure(output=similarity, ordering=ordering, layers=layers,
                          agreement=agreement, measure=measure,
                          assignment=collected.assignment)


def _agreement(layer: Similarity, output: Similarity, measure, linkage, distance) -> float:
    from scipy import stats

    if measure == "spearman":
        a, b = layer.off_diagonal(), output.off_diagonal()
    else:
        from scipy.cluster.hierarchy import cophenet

        a = cophenet(hclust(layer, linkage=linkage, distance=distance).scipy_linkage())
        b = cophenet(hclust(output, linkage=linkage, distance=distance).scipy_linkage())
        a, b = np.asarray(a), np.asarray(b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # undefined: fewer than 3 classes, or no variation at all
    if measure == "spearman":
        return float(stats.spearmanr(a, b).statistic)
    return float(np.corrcoef(a, b)[0, 1])
