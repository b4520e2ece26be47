"""API of oversight: findings, spot checks, ledgers, reports, the audit log."""

from ninja import Router

from jilu.oversight.api_ledgers import router as ledgers_router

router = Router(tags=["oversight"])
router.add_router("", ledgers_router)
