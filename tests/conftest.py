"""Shared fixtures of the test suite."""
import pytest


@pytest.fixture
def measured(record_property):
    """Record the values a check measured, for `make robustness`'s table.

    measured(val=4.52, ratio=2.3) shows as "val=4.52 ratio=2.3" in the
    check's row (floats rounded to 3 significant digits).
    """
    def record(**values):
        for name, value in values.items():
            if isinstance(value, float):
                value = float('%.3g' % value)
            record_property(name, value)
    return record
