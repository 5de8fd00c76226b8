"""What the test suites share beside the fixtures of `tests/conftest.py`: model builders, the
distributed and saving comparisons, and the independent searches projections are checked against."""
