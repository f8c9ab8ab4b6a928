#!/usr/bin/env bash
# Install PyTorch into the virtual environment *before* the project, so that pip never
# resolves a plain `torch` requirement to a multi-GB CUDA build on a CPU-only machine.
#   usage: scripts/install-torch.sh VENV_PYTHON [cpu|cuda|skip]
#   cpu  (default) a CPU-only build: a local wheel on pip's find-links if there is one
#        (offline mirrors, CI images), otherwise PyTorch's CPU index.
#   cuda PyPI's default build, which bundles CUDA (for NVIDIA GPUs).
#   skip leave torch alone (you installed the build you want yourself).
set -euo pipefail
py=${1:?usage: install-torch.sh VENV_PYTHON [cpu|cuda|skip]}
flavour=${2:-cpu}

if "$py" -c 'import torch' 2>/dev/null; then
    echo "torch $("$py" -c 'import torch; print(torch.__version__)') already installed; keeping it."
    exit 0
fi
case "$flavour" in
    cpu)
        if "$py" -m pip install -q --no-index --no-deps torch 2>/dev/null; then
            echo "Installed torch from a local wheel: $("$py" -m pip show torch | sed -n 's/^Version: //p')"
        else
            "$py" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
        fi ;;
    cuda) "$py" -m pip install -q torch ;;
    skip) echo "TORCH=skip: not installing torch." ;;
    *) echo "TORCH must be cpu, cuda or skip (got '$flavour')" >&2; exit 2 ;;
esac
