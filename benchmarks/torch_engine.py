"""The torch similarity engine: CUDA host to host (when a GPU is present), or torch CPU vs numpy.

``blocks_rx.compute_similarity(scores, engine="torch", device=...)`` on float32 logits held
in host memory (benchmarks/similarity.py's ``synthetic_logits``, loaded whole before the
baseline), each contender in a fresh process (benchmarks/_bench.py), the matrix returned to
the host as a numpy array.

With CUDA (``torch.cuda.is_available()``), at 262,200 x 2,622: the torch engine on the GPU,
host to host (the timed call includes copying the scores to the device and the matrix back;
the fastest of ``--inner`` calls in the process after a warm-up is kept), against a bare
float32 ``torch`` GEMM host to host (``torch.from_numpy(S).cuda()``, ``X.T @ X``, ``.cpu()``:
the floor, with torch's default matmul precision) and the numpy engine on the host CPU.
Without CUDA: the torch engine on the CPU against the numpy engine. Both print the largest
difference from the numpy engine's matrix, and memory (rise of peak RssAnon and VmHWM).

If ``compute_similarity`` does not take ``engine=`` yet, or has no ``torch`` engine, the
script says so and exits 0.

Goal (issue 13): on an H100, 262,200 x 2,622 host to host in under 0.2 s.

    python benchmarks/torch_engine.py            # 262,200 x 2,622
    python benchmarks/torch_engine.py --quick    # 50,000 x 2,622
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from _bench import best_of, gb, goal, mb, run_child, shape
from similarity import synthetic_logits

CHILD = r"""
import numpy as np
path, which, inner, save = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
import blocks_rx
import torch
S = np.load(path)  # whole, in host memory
warm = np.ascontiguousarray(S[:4096])
device_name = "cpu"
if which == "torch-cuda":
    device_name = torch.cuda.get_device_name(0)
    blocks_rx.compute_similarity(warm, engine="torch", device="cuda", warn=False)
    torch.cuda.synchronize()
    run = lambda: blocks_rx.compute_similarity(S, engine="torch", device="cuda", warn=False).matrix
elif which == "gemm-cuda":
    device_name = torch.cuda.get_device_name(0)
    def run():
        X = torch.from_numpy(S).to("cuda")
        return (X.T @ X).cpu().numpy()
    X = torch.from_numpy(warm).to("cuda"); (X.T @ X).cpu(); del X
    torch.cuda.synchronize()
elif which == "torch-cpu":
    blocks_rx.compute_similarity(warm, engine="torch", device="cpu", warn=False)
    run = lambda: blocks_rx.compute_similarity(S, engine="torch", device="cpu", warn=False).matrix
else:
    blocks_rx.compute_similarity(warm, warn=False)
    run = lambda: blocks_rx.compute_similarity(S, warn=False).matrix
del warm
best = None
for _ in range(inner):
    matrix, figures = measure(run)
    if best is None or figures["seconds"] < best["seconds"]:
        best = {**figures, "all_seconds": (best or {}).get("all_seconds", [])}
    best["all_seconds"].append(figures["seconds"])
if save != "-":
    np.save(save, np.asarray(matrix, dtype=np.float64))
emit(**best, device=device_name, torch=torch.__version__)
"""


def engine_status() -> str | None:
    """None when compute_similarity takes engine="torch" (and device=); else why not."""
    import blocks_rx

    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed (pip install 'blocks-rx[torch]')"
    tiny = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    try:
        blocks_rx.compute_similarity(tiny, engine="torch", device="cpu", warn=False)
    except TypeError as exc:
        return f"compute_similarity does not take engine=/device= yet ({exc})"
    except Exception as exc:  # noqa: BLE001 - an unknown engine, whatever its error type
        return f"compute_similarity(engine='torch', device='cpu') failed: " \
               f"{type(exc).__name__}: {exc}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="default 262,200 (--quick 50,000)")
    parser.add_argument("--classes", type=int, default=2_622)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None,
                        help="fresh processes per contender, alternating (default 2, --quick 1)")
    parser.add_argument("--inner", type=int, default=5,
                        help="timed calls per GPU process (the fastest is kept)")
    args = parser.parse_args(argv)
    n = args.samples or (50_000 if args.quick else 262_200)
    m = args.classes
    size, at_size = shape(n, m), (n, m) == (262_200, 2_622)
    label = "torch engine on the GPU, 262,200 x 2,622 host to host (H100)"
    why = engine_status()
    if why is not None:
        print(f"torch engine: not measured: {why}")
        goal("gpu_262k_host_to_host", label, None, 0.2, unit="s", cmp="<", size=size,
             at_size=at_size, note=f"not measured: {why}"[:300])
        return 0
    import torch

    cuda = torch.cuda.is_available()
    repeats = args.repeats or (1 if args.quick else 2)
    with tempfile.TemporaryDirectory(prefix="bench-torch-") as folder:
        path = Path(folder) / "logits.npy"
        synthetic_logits(path, n, m)
        print(f"{size} float32 logits ({gb(path.stat().st_size)}) in host memory; "
              f"{'CUDA: ' + torch.cuda.get_device_name(0) if cuda else 'no CUDA device: torch CPU vs numpy'}",
              flush=True)
        saved = {w: str(Path(folder) / f"{w}.npy") for w in ("numpy", "torch")}
        if cuda:
            contenders = {
                "torch engine, cuda": lambda: run_child(CHILD, path, "torch-cuda", args.inner,
                                                        saved["torch"]),
                "bare torch GEMM, cuda": lambda: run_child(CHILD, path, "gemm-cuda", args.inner,
                                                           "-"),
                "numpy engine, host CPU": lambda: run_child(CHILD, path, "numpy", 1,
                                                            saved["numpy"]),
            }
        else:
            contenders = {
                "torch engine, cpu": lambda: run_child(CHILD, path, "torch-cpu", 1,
                                                       saved["torch"]),
                "numpy engine": lambda: run_child(CHILD, path, "numpy", 1, saved["numpy"]),
            }
        try:
            best = best_of(contenders, repeats)
        except RuntimeError as exc:
            print(f"torch engine: failed: {exc}")
            goal("gpu_262k_host_to_host", label, None, 0.2, unit="s", cmp="<", size=size,
                 at_size=at_size, note=f"failed: {str(exc).splitlines()[0]}"[:300])
            return 0
        error = float(np.abs(np.load(saved["torch"]) - np.load(saved["numpy"])).max())
    first = next(iter(best.values()))
    print(f"\n  {size}: {'contender':<24s} {'time':>9s} {'vs first':>9s} {'anon. rise':>11s} "
          f"{'peak RSS rise':>14s}")
    for name, found in best.items():
        print(f"  {'':{len(size)}s}  {name:<24s} {found['seconds']:8.3f}s "
              f"{found['seconds'] / first['seconds']:8.2f}x {mb(found['anon_rise']):>11s} "
              f"{mb(found['hwm_rise']):>14s}")
    print(f"  max |torch engine - numpy engine| = {error:.2e}")
    if cuda:
        ours = best["torch engine, cuda"]
        gemm = best["bare torch GEMM, cuda"]
        goal("gpu_262k_host_to_host", label, ours["seconds"], 0.2, unit="s", cmp="<", size=size,
             at_size=at_size and "H100" in ours["device"], device=ours["device"],
             anchor_seconds=gemm["seconds"], max_abs_error=error,
             note=f"{ours['device']}; bare torch GEMM host to host {gemm['seconds']:.3f} s; "
                  f"numpy engine on the host {best['numpy engine, host CPU']['seconds']:.1f} s")
    else:
        ours, numpy_engine = best["torch engine, cpu"], best["numpy engine"]
        goal("gpu_262k_host_to_host", label, None, 0.2, unit="s", cmp="<", size=size,
             at_size=at_size, max_abs_error=error,
             note=f"no CUDA device; torch engine on the CPU {ours['seconds']:.2f} s vs the numpy "
                  f"engine {numpy_engine['seconds']:.2f} s "
                  f"({ours['seconds'] / numpy_engine['seconds']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
