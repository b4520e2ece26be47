from django.apps import AppConfig


class WebConfig(AppConfig):
    """The top layer: pages that combine several apps, role home pages, the demo
    and ``jilu verify``. Nothing below imports it."""

    name = "jilu.web"
    label = "web"
    verbose_name = "工作台"
