#!/usr/bin/env bash
# Create .venv and install the project with its test tools. Idempotent: a second
# run only reinstalls when pyproject.toml or this script changed.
#
# PyTorch: the CPU build, from PyTorch's own CPU wheel index (the public index's Linux
# wheels are CUDA builds that pull several GB of NVIDIA libraries). With a GPU, set
# TORCH_INDEX to the index of your CUDA version (e.g. https://download.pytorch.org/whl/cu128).
#
# EXTRAS: the project's extras to install (default: dev; the tests add milvus for the Milvus engine).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS:-dev}
TORCH_VERSION=2.13.0
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$( (cat pyproject.toml scripts/setup.sh; echo "$EXTRAS") | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
    pip=(.venv/bin/python -m pip)
    "${pip[@]}" install --quiet --upgrade pip
    # Torch before the project, so sentence-transformers finds it installed. A short timeout
    # and a few retries ride out a network blip; where PyTorch's index cannot be reached at
    # all, fall back to the default index (and any local wheels pip is configured with).
    if ! "${pip[@]}" install --quiet --timeout 15 --retries 3 --index-url "$TORCH_INDEX" \
        "torch==$TORCH_VERSION" 2>.venv/torch-index.log; then
        echo "setup: PyTorch's wheel index $TORCH_INDEX could not be used" \
            "(.venv/torch-index.log); installing torch from the default index" >&2
        "${pip[@]}" install --quiet "torch==$TORCH_VERSION"
        if .venv/bin/python -c "import sys, torch; sys.exit(torch.version.cuda is None)" 2>/dev/null; then
            echo "setup: WARNING: the default index gave a CUDA build of torch (several GB);" \
                "rerun when $TORCH_INDEX is reachable for the CPU build" >&2
        fi
    fi
    "${pip[@]}" install --quiet -e ".[$EXTRAS]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
