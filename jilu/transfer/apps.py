from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "jilu.transfer"
    label = "transfer"
    verbose_name = "光盘移送与法制审核"

    def ready(self) -> None:
        from django.utils.translation import gettext as _
        from django.utils.translation import gettext_lazy

        from jilu.evidence import task_labels

        task_labels.register(
            "jilu.transfer.tasks.build_package_job",
            gettext_lazy("制作案件光盘包"),
            lambda args, kwargs: (
                _("光盘包 #%(id)s") % {"id": task_labels.first_arg(args, kwargs, "package_id")}
            ),
        )

        from jilu.casework import review_hook
        from jilu.transfer.queries import latest_decision

        # Casework shows the handler the reviewer's decision, note and row marks
        # on the case page and in the case API (C5.5) without importing transfer.
        review_hook.register_latest_review(latest_decision)
