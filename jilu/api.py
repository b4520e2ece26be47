"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json).

People authenticate with ``Authorization: Bearer <token>`` from
``POST /api/v1/auth/token``; stations with the token shown once when their
workstation was registered.
"""

from ninja import NinjaAPI

from jilu.api_auth import BearerAuth
from jilu.devices.api import router as devices_router
from jilu.org.api import router as org_router

api = NinjaAPI(
    title="Jilu API",
    version="1",
    description="记录：执法记录仪声像资料管理平台 API",
    auth=BearerAuth(),
    urls_namespace="api",
)
api.add_router("/", org_router)
api.add_router("/", devices_router)
