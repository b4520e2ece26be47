from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "jilu.casework"
    label = "casework"
    verbose_name = "执法活动与案件"

    def ready(self) -> None:
        # C5.3: a bad naming template stops start-up instead of failing the
        # first annotation of the day.
        from django.conf import settings

        from jilu.casework.naming import check_template
        from jilu.conf import ConfigError

        template = getattr(settings, "CASEWORK_NAME_TEMPLATE", "")
        if template:
            try:
                check_template(template)
            except ValueError as exc:
                raise ConfigError(f"JILU_NAME_TEMPLATE={template!r}: {exc}") from None
