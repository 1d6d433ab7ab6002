"""CSV files at the edge: streamed rows with their line numbers, nested by dotted column names."""

from adapters.csv.reader import CsvRow, count_rows, read_rows

__all__ = ["CsvRow", "count_rows", "read_rows"]
