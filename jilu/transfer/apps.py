from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "jilu.transfer"
    label = "transfer"
    verbose_name = "光盘移送与法制审核"
