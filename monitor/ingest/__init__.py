"""CSV ingestion by docs/report-semantics.md §1: value rules (rules), reading a file (reader),
the three sources (loaders) and the bulk loads per database (backends). Their
hand-written SQL takes every table and column name from monitor.sql.

The services in monitor.services.imports are the way in; nothing here opens a
transaction of its own.
"""
