"""The benchmark: `make bench` (see `bench/run.py`). Never imported by Haven itself."""
