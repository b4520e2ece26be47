from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "jilu.retention"
    label = "retention"
    verbose_name = "保存期限与销毁"

    def ready(self) -> None:
        # Casework, access and transfer change what a recording's keep-until
        # depends on (links, case closing, requests); they tell evidence's hook,
        # and this app recomputes in the same transaction (C5.6).
        from jilu.evidence.hooks import register_keep_until_changed
        from jilu.retention.actions import recompute_for_hook

        register_keep_until_changed(recompute_for_hook)

        from django.utils.translation import gettext_lazy

        from jilu.evidence import task_labels

        task_labels.register(
            "jilu.retention.tasks.propose_disposals",
            gettext_lazy("生成各单位的销毁清单（C5.6）"),
            lambda args, kwargs: "",
        )
        task_labels.register(
            "jilu.retention.tasks.execute_approved",
            gettext_lazy("执行已批准的销毁清单（C5.6）"),
            lambda args, kwargs: "",
        )
