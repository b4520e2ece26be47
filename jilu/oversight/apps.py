from django.apps import AppConfig


class OversightConfig(AppConfig):
    """The inspection department's view (C6.1, C6.4, C6.5): findings per clause,
    spot checks, ledgers and periodic reports. It reads every app below it;
    no app reads it."""

    name = "jilu.oversight"
    label = "oversight"
    verbose_name = "督察"
