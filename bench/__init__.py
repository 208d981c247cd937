"""Benchmarks and training scripts, run as modules from the project folder: `.venv/bin/python -m bench.<name> --help`.

They read the development data in ../shared/data (not shipped) and write their figures to docs/benchmarks.md."""
