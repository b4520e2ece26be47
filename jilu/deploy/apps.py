from django.apps import AppConfig


class DeployConfig(AppConfig):
    name = "jilu.deploy"
    label = "jilu_deploy"
    verbose_name = "Deployment checks"

    def ready(self) -> None:
        from jilu.deploy import checks  # noqa: F401 (registers the checks)
