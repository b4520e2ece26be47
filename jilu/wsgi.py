import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
application = get_wsgi_application()

# A city deployment with an unsafe configuration does not start (jilu/deploy/checks.py).
from jilu.deploy.checks import enforce  # noqa: E402

enforce()
