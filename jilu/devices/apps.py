from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "jilu.devices"
    label = "devices"
    verbose_name = "记录仪与工作站"
