"""From a PyTorch model to class structure, layer by layer, on real data with no download.

Run:  python examples/torch_digits.py [OUT_DIR]

Trains a small CNN for a few seconds on scikit-learn's bundled 8x8 handwritten digits
(``sklearn.datasets.load_digits``: 1,797 images, 10 classes), then, on the held-out third:

1. ``blocks_rx.torch.collect`` runs the model once and keeps logits, predictions, the
   confusion matrix, thumbnails and per-class mean activations of three layers;
2. the result is saved as an ``.npz`` that ``blocks_rx.load_scores`` and
   ``blocks-rx analyze`` read directly;
3. the output's class similarity is ordered with R-identical hclust and drawn;
4. each layer's class similarity is drawn in that same order, with the Spearman
   correlation between its off-diagonal values and the output's.

Writes OUT_DIR/digits_collected.npz, digits_output_similarity.png, digits_layers.png.
Needs: pip install 'blocks-rx[torch]' (torch, tqdm, scikit-learn).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import blocks_rx
from blocks_rx import plot
from blocks_rx.torch import collect, layer_structure

SEED = 0


class DigitsCNN(nn.Module):
    """Two conv blocks and a hidden layer: enough for ~97% on 8x8 digits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
                                 nn.Dropout(0.2))
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        return self.out(self.fc1(self.conv2(self.conv1(x))))


def digits_data():
    """Train and held-out test tensors, images scaled to [0, 1], split reproducibly."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)  # (n, 1, 8, 8)
    y = torch.tensor(digits.target, dtype=torch.int64)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(SEED))
    cut = 2 * len(y) // 3
    return (x[perm[:cut]], y[perm[:cut]]), (x[perm[cut:]], y[perm[cut:]])


def train(model, x, y, epochs=15):
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64,
                                         shuffle=True,
                                         generator=torch.Generator().manual_seed(SEED))
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimiser.step()
    return model


def main(out_dir="torch-digits-output"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    # One thread: this model is too small to gain from more, and on a busy 2-core machine
    # OpenMP's spinning threads made training 5-10x slower (11 s against 2.4 s, measured).
    torch.set_num_threads(1)

    started = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = digits_data()
    model = train(DigitsCNN(), x_train, y_train)
    print(f"trained on {len(y_train)} images in {time.perf_counter() - started:.1f} s")

    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_test, y_test),
                                       batch_size=128)
    result = collect(model, test, layers=["conv1", "conv2", "fc1"],
                     classes=[str(d) for d in range(10)])
    accuracy = np.trace(result.confusion) / result.confusion.sum()
    print(f"collected {result.n_samples} held-out images; accuracy {accuracy:.3f}; "
          f"layer means by {result.assignment}")
    saved = result.save(out / "digits_collected.npz")

    # The saved file is an ordinary score file for the rest of blocks_rx.
    scores = blocks_rx.load_scores(saved)
    similarity = blocks_rx.compute_similarity(scores)
    ordering = blocks_rx.order_classes(similarity)
    print("order:", ordering.ordered_classes)

    shown = plot.heatmap(similarity, ordering,
                       title="digits CNN: class similarity of the output logits\n"
                             f"(Pearson over {similarity.n_samples} held-out images), hclust order")
    shown.figure_.set_size_inches(6.5, 5.5)
    shown.savefig(out / "digits_output_similarity.png", dpi=150)

    structure = layer_structure(result, similarity=similarity, ordering=ordering)
    for name, value in structure.agreement.items():
        print(f"layer {name}: Spearman vs output {value:.3f}")
    plot.layer_heatmaps(structure).savefig(out / "digits_layers.png", dpi=150)
    print(f"wrote {saved}, digits_output_similarity.png and digits_layers.png to {out}/ "
          f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
