#!/usr/bin/env bash
# Every check that needs a CUDA GPU, in one run: what the GPU and torch are, the tests that
# need CUDA (tests/test_cuda.py, and the CUDA test of tests/test_torch.py), then the torch
# engine's benchmark (262,200 x 2,622 host to host; issue 13's H100 goal: under 0.2 s).
#
# Run it from the repository root, with a python3 whose torch sees the GPU (numpy, scipy,
# pandas, numba and pytest beside it; blocks-rx itself is taken from this checkout):
#
#     bash benchmarks/on_gpu.sh [FOLDER]
#
# Each part's output goes to FOLDER (default: $OUT if set, else /tmp/blocks-rx-gpu), and to
# the screen. About 3 minutes on an H100 machine, most of it the numpy engine on its CPUs.
# BENCH_ARGS passes options to benchmarks/torch_engine.py (e.g. --quick, for a dry run).
# It exits with the tests' status.
set -u -o pipefail
folder=${1:-${OUT:-/tmp/blocks-rx-gpu}}
mkdir -p "$folder"
root=$(pwd)
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.max,pcie.link.width.max \
        --format=csv || echo "nvidia-smi: not found"
    "$python" -c "import os, torch; print('torch', torch.__version__, '| CUDA', torch.version.cuda, '| sees a GPU:', torch.cuda.is_available(), '|', torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-', '|', os.cpu_count(), 'CPUs')"
} 2>&1 | tee "$folder/device.txt"

"$python" -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py \
    "tests/test_torch.py::test_cuda_gives_the_cpu_numbers_and_returns_the_model" 2>&1 \
    | tee "$folder/tests.txt"
tests=$?

(cd benchmarks && "$python" torch_engine.py ${BENCH_ARGS:-}) 2>&1 | tee "$folder/torch_engine.txt"
exit $tests
