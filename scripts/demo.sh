#!/usr/bin/env bash
# The main job, no Telegram token needed: install, index the sample articles,
# then answer the sample questions through the bot's own reply pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export INDEX_DIR=${INDEX_DIR:-var/demo-index}
.venv/bin/python -m index build --articles samples/articles --index "$INDEX_DIR"
echo
.venv/bin/python -m bot --console --index "$INDEX_DIR" < samples/questions.txt
