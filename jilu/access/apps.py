from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "jilu.access"
    label = "access"
    verbose_name = "调用申请"

    def ready(self) -> None:
        # Evidence serves the originals; whether one may leave as a copy is this
        # app's rule (C6.3, C6.5.7), asked through evidence's copy gate.
        from jilu.access import gate
        from jilu.evidence.hooks import CopyGate, register_copy_gate

        register_copy_gate(CopyGate(authorise=gate.authorise_copy, refusal=gate.REFUSAL))

        from django.utils.translation import gettext as _
        from django.utils.translation import gettext_lazy

        from jilu.evidence import task_labels

        task_labels.register(
            "jilu.access.tasks.build_copy_package_job",
            gettext_lazy("制作调用单复制件包"),
            lambda args, kwargs: (
                _("复制件包 #%(id)s") % {"id": task_labels.first_arg(args, kwargs, "package_id")}
            ),
        )
