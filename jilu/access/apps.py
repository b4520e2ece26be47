from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "jilu.access"
    label = "access"
    verbose_name = "调用申请"
