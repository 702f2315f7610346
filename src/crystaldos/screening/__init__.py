"""High-throughput screening: resumable Parquet output, backends, shortlists and reports."""

from crystaldos.screening.engine import ScreenSummary, screen
from crystaldos.screening.report import ranked, write_report
from crystaldos.screening.store import ScreenStore, ScreenStoreError, iter_rows, read_table

__all__ = ["ScreenStore", "ScreenStoreError", "ScreenSummary", "iter_rows", "ranked",
           "read_table", "screen", "write_report"]
