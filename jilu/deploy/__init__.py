"""Deployment safety: the checks that refuse to start an unsafe city configuration,
and the PostgreSQL grants of the application's role (``jilu grant-app-role``)."""
