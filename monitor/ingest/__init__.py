"""CSV ingestion by docs/report-semantics.md §1: value rules (rules), reading a file (reader),
and the three sources (loaders). Their hand-written SQL takes every table and
column name, and every statement specific to a database, from monitor.db.

The services in monitor.services.imports are the way in; nothing here opens a
transaction of its own.
"""
