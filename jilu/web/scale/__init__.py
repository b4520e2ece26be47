"""``jilu seed-scale``: a city-year of data for benchmarks, written in bulk.

``plan`` builds the bureau (units, people, roles, recorders and their holders,
workstations), ``year`` the year day by day (activities, cases, recordings,
dockings with their checks, annotations, duty-log notes), ``writer`` writes the
rows (PostgreSQL ``COPY``, SQLite multi-row inserts) and ``day`` sets the
findings engine up to judge one day's new facts.
"""
