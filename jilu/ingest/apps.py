from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "jilu.ingest"
    label = "ingest"
    verbose_name = "数据采集"
