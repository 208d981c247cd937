"""The test suite: `scripts/test.sh` (ruff, then pytest). Support code — the fake Bot API server, the test website, the corpus — is in ``tests/support``."""
