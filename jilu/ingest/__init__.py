"""Ingest: docking sessions, the tus upload server, the station API, quarantine."""
