#!/usr/bin/env bash
# The tests: install, lint, run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check index bot tests bench
.venv/bin/ruff format --check index bot tests bench
.venv/bin/python -m pytest -q "$@"
