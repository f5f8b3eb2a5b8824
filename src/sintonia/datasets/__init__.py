"""Reading and validating tuning datasets: examples of a text input and its expected output.

`read_dataset` (a file), `parse_dataset` (uploaded bytes) and `dataset_from_records` (in
memory) each return a whole `Dataset` or raise `DatasetInvalid` listing every problem.
"""

from sintonia.datasets.examples import Dataset, Example
from sintonia.datasets.parse import (
    SUFFIXES,
    Format,
    dataset_from_records,
    parse_dataset,
    read_dataset,
)
from sintonia.datasets.validate import DEFAULT_LIMITS, Limits, LocatedRecord, validate_records

__all__ = [
    "DEFAULT_LIMITS",
    "SUFFIXES",
    "Dataset",
    "Example",
    "Format",
    "Limits",
    "LocatedRecord",
    "dataset_from_records",
    "parse_dataset",
    "read_dataset",
    "validate_records",
]
