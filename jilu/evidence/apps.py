from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "jilu.evidence"
    label = "evidence"
    verbose_name = "证据存储"

    def ready(self) -> None:
        from jilu.audit.checkpoints import register_sink
        from jilu.evidence.store.audit_sink import bucket_checkpoints

        # C6.5.3: on S3, each audit checkpoint is also kept in the bucket under Object Lock.
        register_sink(bucket_checkpoints)
