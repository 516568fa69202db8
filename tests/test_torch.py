"""blocks_rx.torch: collecting from a model, checked against plain forward passes and loops."""

from __future__ import annotations

import doctest
import itertools
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
from scipy import stats
from scipy.cluster.hierarchy import cophenet

from conftest import ROOT

try:
    import torch
    from torch import nn
except ImportError:  # the import-only tests below still run
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="torch not installed: pip install 'blocks-rx[torch]'")
requires_cuda = pytest.mark.skipif(
    torch is None or not torch.cuda.is_available(),
    reason="no CUDA GPU on this machine (torch.cuda.is_available() is False): the CPU/GPU "
           "agreement test needs one")

M = 5  # classes


# --------------------------------------------------------------------------- import promises


def test_import_blocks_rx_does_not_import_torch():
    code = "import sys, blocks_rx, blocks_rx.plot; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_missing_torch_names_the_extra_to_install():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import blocks_rx.torch\nexcept ImportError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "pip install 'blocks-rx[torch]'" in done.stdout


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models: extra intra-op threads only spin, and slow down a busy 2-core machine."""
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _cnn(seed=0):
    """Conv -> BN -> ReLU -> conv -> ReLU -> flatten -> dropout -> linear: modes matter."""
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 4, 3, padding=1)),
        ("bn", nn.BatchNorm2d(4)),
        ("act1", nn.ReLU()),
        ("conv2", nn.Conv2d(4, 6, 3, padding=1)),
        ("act2", nn.ReLU()),
        ("flat", nn.Flatten()),
        ("drop", nn.Dropout(0.5)),
        ("fc", nn.Linear(6 * 6 * 6, M)),
    ]))


def _data(n=40, seed=1, targets=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=g)
    y = torch.randint(0, M, (n,), generator=g)
    return x, y


def _loader(x, y=None, batch_size=7):
    """Batches of 7 so the last one is short."""
    data = torch.utils.data.TensorDataset(x) if y is None else torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(data, batch_size=batch_size)


@pytest.fixture
def cnn_run():
    from blocks_rx.torch import collect

    model = _cnn()
    x, y = _data()
    # Give the BatchNorm real running statistics, so eval vs train mode differ.
    model.train()
    with torch.no_grad():
        model(x * 2 + 1)
    result = collect(model, _loader(x, y), layers=["act1", "fc"], classes=list("abcde"))
    return model, x, y, result


def _forward(model, x):
    """A plain forward pass in eval mode, leaving the model's mode as it was."""
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train(was)
    return out


def _direct_class_means(features, assigned_weights):
    """Per-class means by a plain loop over classes: the oracle for the running sums."""
    features = np.asarray(features, dtype=np.float64)
    w = np.asarray(assigned_weights, dtype=np.float64)
    out = np.full((w.shape[1], features.shape[1]), np.nan)
    for j in range(w.shape[1]):
        rows = w[:, j] > 0
        if rows.any():
            out[j] = features[rows].mean(axis=0)
    return out


# --------------------------------------------------------------------------- single-label


@requires_torch
def test_single_label_scores_match_a_plain_forward_pass(cnn_run):
    model, x, y, result = cnn_run
    expected = _forward(model, x).numpy()
    assert result.logits.dtype == np.float32 and result.logits.shape == (40, M)
    np.testing.assert_allclose(result.logits, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.probabilities,
                               torch.softmax(torch.tensor(expected), 1).numpy(), atol=1e-6)
    np.testing.assert_array_equal(result.predictions, expected.argmax(axis=1))
    np.testing.assert_array_equal(result.targets, y.numpy())
    assert result.classes == tuple("abcde") and not result.multilabel
    assert result.assignment == "targets" and result.cooccurrence is None


@requires_torch
def test_confusion_matches_a_loop(cnn_run):
    _, _, y, result = cnn_run
    loop = np.zeros((M, M), dtype=np.int64)
    for true, predicted in zip(y.tolist(), result.predictions.tolist()):
        loop[true, predicted] += 1
    np.testing.assert_array_equal(result.confusion, loop)


@requires_torch
def test_per_class_mean_activations_equal_a_direct_computation(cnn_run):
    model, x, y, result = cnn_run
    model.eval()
    with torch.no_grad():
        act1 = model.act1(model.bn(model.conv1(x)))           # (n, 4, 6, 6)
        fc = model(x)                                         # (n, M)
    onehot = np.eye(M)[y.numpy()]
    np.testing.assert_allclose(result.layer_means["act1"],
                               _direct_class_means(act1.mean(dim=(2, 3)), onehot), rtol=1e-6)
    np.testing.assert_allclose(result.layer_means["fc"], _direct_class_means(fc, onehot),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(result.class_counts, np.bincount(y.numpy(), minlength=M))
    assert result.layer_shapes == {"act1": (4, 6, 6), "fc": (M,)}


@requires_torch
def test_layer_followed_by_an_inplace_op_keeps_its_own_output():
    from blocks_rx.torch import collect

    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 3, 3)),
                                       ("relu", nn.ReLU(inplace=True)),
                                       ("flat", nn.Flatten()), ("fc", nn.Linear(48, M))]))
    x, y = _data()
    result = collect(model, _loader(x, y), layers=["conv"])
    with torch.no_grad():
        conv = model.conv(x).mean(dim=(2, 3))  # before the in-place ReLU: negatives too
    np.testing.assert_allclose(result.layer_means["conv"],
                               _direct_class_means(conv, np.eye(M)[y.numpy()]), rtol=1e-6)


@requires_torch
def test_without_targets_classes_are_assigned_by_predictions():
    from blocks_rx.torch import collect

    model = _cnn()
    x, _ = _data()
    result = collect(model, _loader(x), layers=["act2"])
    assert result.targets is None and result.confusion is None
    assert result.assignment == "predictions"
    predicted = _forward(model, x).argmax(1).numpy()
    model.eval()
    with torch.no_grad():
        act2 = model.act2(model.conv2(model.act1(model.bn(model.conv1(x))))).mean(dim=(2, 3))
    np.testing.assert_allclose(result.layer_means["act2"],
                               _direct_class_means(act2, np.eye(M)[predicted]), rtol=1e-6)
    # Thumbnails: the first image of each class seen, by the same assignment.
    for j, image in result.thumbnails.items():
        np.testing.assert_array_equal(image, x[np.flatnonzero(predicted == j)[0]].numpy())
    assert sorted(result.thumbnails) == sorted(set(predicted.tolist()))


@requires_torch
def test_thumbnails_are_the_first_image_of_each_target_class(cnn_run):
    _, x, y, result = cnn_run
    assert sorted(result.thumbnails) == sorted(set(y.tolist()))
    for j, image in result.thumbnails.items():
        assert image.shape == (1, 6, 6)
        np.testing.assert_array_equal(image, x[int(np.flatnonzero(y.numpy() == j)[0])].numpy())


@requires_torch
def test_class_with_no_samples_is_named_not_nan():
    from blocks_rx.torch import collect, layer_similarity

    model = _cnn()
    x, y = _data()
    y = torch.where(y == 3, torch.zeros_like(y), y)  # class 3 never appears
    result = collect(model, _loader(x, y), layers=["fc"])
    assert np.isnan(result.layer_means["fc"][3]).all()
    with pytest.warns(UserWarning, match=r"no samples assigned \('class_3'\)"):
        sim = layer_similarity(result, "fc")
    assert np.isfinite(sim.matrix).all() and sim.constant_classes == ("class_3",)


# --------------------------------------------------------------------------- multi-label


def _multilabel_run():
    from blocks_rx.torch import collect

    torch.manual_seed(3)
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(6, 8)), ("act", nn.Tanh()),
                                       ("out", nn.Linear(8, M))]))
    g = torch.Generator().manual_seed(4)
    x = torch.randn(50, 6, generator=g)
    y = (torch.rand(50, M, generator=g) < 0.35).float()
    return model, x, y, collect(model, _loader(x, y, 8), layers=["act"], multilabel=True)


@requires_torch
def test_multilabel_sigmoids_predictions_and_cooccurrence():
    model, x, y, result = _multilabel_run()
    expected = _forward(model, x).numpy()
    np.testing.assert_allclose(result.logits, expected, atol=1e-6)
    np.testing.assert_allclose(result.probabilities, 1 / (1 + np.exp(-expected)), atol=1e-6)
    np.testing.assert_array_equal(result.predictions, (expected > 0).astype(np.uint8))
    assert result.confusion is None and result.multilabel
    targets = y.numpy().astype(int)
    np.testing.assert_array_equal(result.targets, targets)
    loop = np.zeros((M, M), dtype=np.int64)
    for row in targets:
        for j1, j2 in itertools.product(np.flatnonzero(row), repeat=2):
            loop[j1, j2] += 1
    np.testing.assert_array_equal(result.cooccurrence, loop)
    # A sample counts towards the mean of every one of its labels.
    with torch.no_grad():
        act = model.act(model.hidden(x))
    np.testing.assert_allclose(result.layer_means["act"], _direct_class_means(act, targets),
                               rtol=1e-6)
    np.testing.assert_array_equal(result.class_counts, targets.sum(axis=0))


@requires_torch
def test_multilabel_to_scores_and_file(tmp_path):
    import blocks_rx
    from blocks_rx.torch import load

    _, _, y, result = _multilabel_run()
    scores = result.to_scores()
    assert scores.kind == "multilabel"
    np.testing.assert_array_equal(scores.values, result.probabilities)
    assert result.to_scores("logits").kind == "logits"
    with pytest.raises(ValueError, match="probabilities"):
        result.to_scores("probabilities")
    path = result.save(tmp_path / "multi.npz")
    loaded = blocks_rx.load_scores(path, kind="multilabel")
    np.testing.assert_array_equal(loaded.values, result.probabilities)
    np.testing.assert_array_equal(loaded.labels, y.numpy().astype(np.uint8))
    back = load(path)
    assert back.multilabel and back.confusion is None
    np.testing.assert_array_equal(back.cooccurrence, result.cooccurrence)


# --------------------------------------------------------------------------- model state


class _Bomb(nn.Module):
    """Passes inputs through, and raises on the given call."""

    def __init__(self, on_call):
        super().__init__()
        self.calls, self.on_call = 0, on_call

    def forward(self, x):
        self.calls += 1
        if self.calls == self.on_call:
            raise RuntimeError("boom")
        return x


def _no_hooks(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@requires_torch
def test_hooks_removed_and_mode_restored_after_an_error_on_the_third_batch():
    from blocks_rx.torch import collect

    model = _cnn()
    model.add_module("bomb", _Bomb(on_call=3))
    model.train()
    model.bn.eval()  # mixed modes must come back exactly
    modes = {name: m.training for name, m in model.named_modules()}
    x, y = _data()
    with pytest.raises(RuntimeError, match="boom"):
        collect(model, _loader(x, y), layers=["conv1", "act2", "fc", "bomb"])
    assert model.bomb.calls == 3
    assert _no_hooks(model)
    assert {name: m.training for name, m in model.named_modules()} == modes


@requires_torch
def test_model_keeps_its_device_mode_and_parameters(cnn_run):
    from blocks_rx.torch import collect

    model, x, y, _ = cnn_run
    assert _no_hooks(model)
    model.train()
    params = {name: p for name, p in model.named_parameters()}
    before = {name: p.detach().clone() for name, p in params.items()}
    running = model.bn.running_mean.clone()
    collect(model, _loader(x, y), device="cpu", layers=["act1"])
    assert model.training and all(m.training for m in model.modules())
    for name, p in model.named_parameters():
        assert p is params[name] and p.device.type == "cpu"
        torch.testing.assert_close(p.detach(), before[name], rtol=0, atol=0)
    # Eval mode during the run: BatchNorm's running statistics were not updated.
    torch.testing.assert_close(model.bn.running_mean, running, rtol=0, atol=0)


@requires_torch
def test_amp_on_cpu_keeps_float32_scores_close(cnn_run):
    from blocks_rx.torch import collect

    model, x, y, result = cnn_run
    mixed = collect(model, _loader(x, y), amp=True)
    assert mixed.logits.dtype == np.float32 and mixed.metadata["amp"]
    np.testing.assert_allclose(mixed.logits, result.logits, atol=0.1)


@requires_torch
def test_quiet_when_stderr_is_not_a_terminal(cnn_run, capfd):
    from blocks_rx.torch import collect

    model, x, y, _ = cnn_run
    capfd.readouterr()
    collect(model, _loader(x, y))
    assert capfd.readouterr().err == ""


@requires_torch
def test_progress_bar_on_a_terminal_for_long_runs(cnn_run, monkeypatch):
    import io
    import time

    from blocks_rx.torch import collect

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    model, x, y, _ = cnn_run
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    def slow():  # a generator: no len(), so the bar has no total
        for start in range(0, 21, 7):
            time.sleep(0.45)
            yield x[start:start + 7], y[start:start + 7]

    result = collect(model, slow())
    assert result.n_samples == 21
    assert "blocks-rx collect" in terminal.getvalue() and "3batch" in terminal.getvalue()


@requires_torch
@pytest.mark.parametrize("batches, message", [
    ("unknown_layer", "no module named 'nope'"),
    ("multi_hot_single", "multilabel=True"),
    ("out_of_range", r"target 9 is outside 0\.\.4"),
    ("empty", "no batches"),
])
def test_bad_input_is_named(batches, message):
    from blocks_rx.torch import collect

    model = _cnn()
    x, y = _data(14)
    data = {"unknown_layer": _loader(x, y),
            "multi_hot_single": [(x, torch.nn.functional.one_hot(y, M))],
            "out_of_range": [(x, torch.full((14,), 9))],
            "empty": []}[batches]
    with pytest.raises(ValueError, match=message):
        collect(model, data, layers=["nope"] if batches == "unknown_layer" else None)
    assert _no_hooks(model)


# --------------------------------------------------------------------------- into blocks_rx


@requires_torch
def test_save_is_read_by_load_scores_and_the_cli(cnn_run, tmp_path):
    import blocks_rx
    from blocks_rx import cli
    from blocks_rx.torch import load

    _, _, y, result = cnn_run
    path = result.save(tmp_path / "collected.npz")
    scores = blocks_rx.load_scores(path)
    np.testing.assert_array_equal(scores.values, result.logits)
    assert scores.classes == tuple("abcde")
    np.testing.assert_array_equal(scores.labels, y.numpy())
    same = result.to_scores()
    assert same.kind == "logits"
    np.testing.assert_array_equal(same.values, scores.values)

    back = load(path)
    for name in ("logits", "probabilities", "predictions", "targets", "confusion",
                 "class_counts"):
        np.testing.assert_array_equal(getattr(back, name), getattr(result, name))
    assert back.layers == ("act1", "fc") and back.layer_shapes == result.layer_shapes
    for name in back.layers:
        np.testing.assert_array_equal(back.layer_means[name], result.layer_means[name])
    assert sorted(back.thumbnails) == sorted(result.thumbnails)
    assert back.assignment == "targets" and back.metadata["model"] == "Sequential"

    out = tmp_path / "analysis"
    assert cli.main(["analyze", str(path), "--out", str(out), "--hclust-backend", "python"]) == 0
    stored = np.load(out / "similarity.npz")
    np.testing.assert_allclose(stored["matrix"], np.corrcoef(result.logits, rowvar=False),
                               atol=1e-5)
    assert (out / "heatmap.png").stat().st_size > 5_000


@requires_torch
def test_layer_structure_against_numpy_and_scipy(cnn_run):
    import blocks_rx
    from blocks_rx.torch import layer_structure

    _, _, _, result = cnn_run
    structure = layer_structure(result)
    np.testing.assert_allclose(structure.output.matrix,
                               np.corrcoef(result.logits, rowvar=False), atol=1e-5)
    np.testing.assert_array_equal(structure.ordering.order,
                                  blocks_rx.hclust(structure.output).order)
    upper = np.triu_indices(M, 1)
    for name in ("act1", "fc"):
        sim = structure.layers[name]
        # Pearson between classes' mean activation vectors, over the features.
        np.testing.assert_allclose(sim.matrix, np.corrcoef(result.layer_means[name]),
                                   atol=1e-6)
        expected = stats.spearmanr(sim.matrix[upper], structure.output.matrix[upper]).statistic
        assert structure.agreement[name] == pytest.approx(expected, abs=1e-12)

    tree = layer_structure(result, measure="cophenetic", center=True)
    centred = result.layer_means["act1"] - result.layer_means["act1"].mean(axis=0)
    np.testing.assert_allclose(tree.layers["act1"].matrix, np.corrcoef(centred), atol=1e-6)
    a = cophenet(blocks_rx.hclust(tree.layers["act1"]).scipy_linkage())
    b = cophenet(blocks_rx.hclust(tree.output).scipy_linkage())
    assert tree.agreement["act1"] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)


@requires_torch
def test_layer_heatmaps_draw_every_layer_in_the_common_order(cnn_run):
    from blocks_rx import plot
    from blocks_rx.torch import layer_structure

    _, _, _, result = cnn_run
    structure = layer_structure(result)
    fig = plot.layer_heatmaps(structure)
    panels = {ax.get_label(): ax for ax in fig.figure_.axes if ax.get_label().startswith("matrix:")}
    assert list(panels) == ["matrix:act1", "matrix:fc", "matrix:output"]
    order = structure.ordering.order
    for name, sim in [*structure.layers.items(), ("output", structure.output)]:
        ax = panels[f"matrix:{name}"]
        np.testing.assert_array_equal(ax.images[0].get_array(), sim.matrix[np.ix_(order, order)])
        assert [t.get_text() for t in ax.get_xticklabels()] == structure.ordering.ordered_classes
    assert f"= {structure.agreement['fc']:.2f}" in panels["matrix:fc"].get_title()


@requires_torch
@pytest.mark.parametrize("name", ["blocks_rx.torch", "blocks_rx.plot._layers"])
def test_docstring_examples_run(name):
    import importlib

    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- CUDA


@requires_cuda
def test_cuda_gives_the_cpu_numbers_and_returns_the_model():
    from blocks_rx.torch import collect

    model = _cnn()
    model.train()
    x, y = _data()
    on_cpu = collect(model, _loader(x, y), layers=["act1", "fc"])
    on_gpu = collect(model, _loader(x, y), device="cuda", layers=["act1", "fc"])
    assert all(p.device.type == "cpu" for p in model.parameters()) and model.training
    assert _no_hooks(model) and "moved" in on_gpu.metadata["model_moved"]
    np.testing.assert_allclose(on_gpu.logits, on_cpu.logits, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(on_gpu.probabilities, on_cpu.probabilities, atol=1e-4)
    np.testing.assert_array_equal(on_gpu.confusion, on_cpu.confusion)
    for name in ("act1", "fc"):
        np.testing.assert_allclose(on_gpu.layer_means[name], on_cpu.layer_means[name],
                                   atol=1e-4, rtol=1e-4)
    model.cuda()  # a model already on the GPU stays there
    collect(model, _loader(x, y))
    assert all(p.device.type == "cuda" for p in model.parameters())


# --------------------------------------------------------------------------- example


@requires_torch
def test_digits_example_writes_its_figures(tmp_path):
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn")
    import blocks_rx

    done = subprocess.run([sys.executable, str(ROOT / "examples" / "torch_digits.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "blocks-rx collect" not in done.stderr  # no progress bar off a terminal
    for name in ("digits_output_similarity.png", "digits_layers.png"):
        assert (tmp_path / name).stat().st_size > 20_000
    accuracy = float(done.stdout.split("accuracy ")[1].split(";")[0])
    assert accuracy > 0.9
    agreement = {line.split()[1].rstrip(":"): float(line.split()[-1])
                 for line in done.stdout.splitlines() if line.startswith("layer ")}
    assert list(agreement) == ["conv1", "conv2", "fc1"]
    # The last hidden layer carries the output's class structure; spatially averaged
    # early feature maps of 8x8 digits carry far less.
    assert agreement["fc1"] > 0.5 and agreement["fc1"] > agreement["conv1"] + 0.3
    scores = blocks_rx.load_scores(tmp_path / "digits_collected.npz")
    assert scores.classes == tuple(str(d) for d in range(10)) and scores.labels is not None
