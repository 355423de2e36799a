"""Sample input files for `make run`, the tests and the benchmarks (not app core).

generator writes the three CSVs of docs/report-semantics.md §1, shaped like the
real data set; it reads source files with the importer's own header matching.
"""
