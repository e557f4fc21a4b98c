"""Data layer: one schema for preference pairs, loaders for every source, and the adapters for
the real formats (RewardBench, UltraFeedback, RM-Bench, WildGuardTest, GSM8K). Validation
happens here once; everything downstream trusts the records it gets."""

from harness.data.loaders import load_items, load_pairs, read_records
from harness.data.schema import DataError, DataProblems, PreferencePair

__all__ = [
    "DataError",
    "DataProblems",
    "PreferencePair",
    "load_items",
    "load_pairs",
    "read_records",
]
