from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "jilu.ingest"
    label = "ingest"
    verbose_name = "数据采集"

    def ready(self) -> None:
        from django.utils.translation import gettext as _
        from django.utils.translation import gettext_lazy

        from jilu.evidence import task_labels

        task_labels.register(
            "jilu.ingest.tasks.expire_uploads",
            gettext_lazy("清理过期的未完成上传"),
            lambda args, kwargs: _("全部到期的上传"),
        )
