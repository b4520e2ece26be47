from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "jilu.casework"
    label = "casework"
    verbose_name = "执法活动与案件"

    def ready(self) -> None:
        from django.conf import settings

        from jilu.casework import hooks as casework_hooks
        from jilu.casework.naming import check_template
        from jilu.conf import ConfigError
        from jilu.evidence import hooks

        # Evidence asks casework which recordings an officer shares through an
        # activity, which a keyword finds through annotations, which are annotated.
        hooks.register_shared_with(casework_hooks.shared_with)
        hooks.register_keyword_matches(casework_hooks.keyword_matches)
        hooks.register_annotations(casework_hooks.annotations)

        # C5.3: a bad naming template stops start-up instead of failing the
        # first annotation of the day.

        template = getattr(settings, "CASEWORK_NAME_TEMPLATE", "")
        if template:
            try:
                check_template(template)
            except ValueError as exc:
                raise ConfigError(f"JILU_NAME_TEMPLATE={template!r}: {exc}") from None
