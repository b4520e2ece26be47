from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "jilu.schedule"
    label = "schedule"
    verbose_name = "定时任务"
