from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "jilu.devices"
    label = "devices"
    verbose_name = "记录仪与工作站"

    def ready(self) -> None:
        # A station's bearer token (``jst_…``) is a workstation's; org's API
        # authentication asks this app to resolve it.
        from jilu.devices.actions import station_for_token
        from jilu.org.api_auth import register_token_resolver

        register_token_resolver(station_for_token)
