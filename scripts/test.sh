#!/usr/bin/env bash
# The tests: install, lint, run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev,milvus scripts/setup.sh  # the Milvus engine's tests run against a real milvus-lite server
.venv/bin/ruff check index bot tests bench
.venv/bin/ruff format --check index bot tests bench
.venv/bin/python -m pytest -q "$@"
