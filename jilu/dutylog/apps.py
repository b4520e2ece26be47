from django.apps import AppConfig


class DutylogConfig(AppConfig):
    name = "jilu.dutylog"
    label = "dutylog"
    verbose_name = "执勤日志"
