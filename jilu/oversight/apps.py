from django.apps import AppConfig


class OversightConfig(AppConfig):
    """The inspection department's view (C6.1, C6.4, C6.5): findings per clause,
    spot checks, ledgers and periodic reports. It reads every app below it;
    no app reads it."""

    name = "jilu.oversight"
    label = "oversight"
    verbose_name = "督察"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from jilu.evidence import task_labels
        from jilu.oversight.keeping import open_findings_of
        from jilu.retention.rules import register_keep_reason

        # An undecided finding keeps the recordings it names (C6.4, C5.6).
        register_keep_reason(open_findings_of)

        from jilu.oversight.report_spotchecks import register_section

        # The 通报 carries the period's spot-check scores (C6.4).
        register_section()

        task_labels.register(
            "jilu.oversight.tasks.run_rules",
            gettext_lazy("督察规则：检查新的事实并生成发现（C6.4、C6.5）"),
            lambda args, kwargs: "",
        )
