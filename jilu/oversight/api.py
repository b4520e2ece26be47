"""API of oversight: findings, spot checks, ledgers, reports, the audit log."""

from ninja import Router

router = Router(tags=["oversight"])
