from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "jilu.transfer"
    label = "transfer"
    verbose_name = "光盘移送与法制审核"

    def ready(self) -> None:
        from jilu.casework import review_hook
        from jilu.transfer.queries import latest_decision

        # Casework shows the handler the reviewer's decision, note and row marks
        # on the case page and in the case API (C5.5) without importing transfer.
        review_hook.register_latest_review(latest_decision)
