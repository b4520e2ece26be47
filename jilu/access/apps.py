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
