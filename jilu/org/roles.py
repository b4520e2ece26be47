"""The roles a person can hold (DESIGN.md "Users and what they do")."""

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICER = "officer", _("执法队员")
    SQUAD_LEADER = "squad_leader", _("中队长")
    BRIGADE_LEADER = "brigade_leader", _("大队长")
    ARCHIVIST = "archivist", _("档案管理员")
    CASE_HANDLER = "case_handler", _("案件承办人")
    LEGAL_REVIEWER = "legal_reviewer", _("法制审核员")
    INSPECTOR = "inspector", _("督察")
    ADMIN = "admin", _("系统管理员")

    @enum.property
    def label(self) -> str:
        """The name in the active language as plain text (so that it can be
        joined into a message); ``Role.choices`` and ``Role.labels`` are read
        at the time of use, so they follow the language too."""
        return str(self._label_)


# Lazy labels for model fields, whose choices are read once at import.
ROLE_CHOICES = [(role.value, role._label_) for role in Role]

LEADERS = frozenset({Role.SQUAD_LEADER, Role.BRIGADE_LEADER})
# Roles that read everything under their unit (officers see only their own).
UNIT_READERS = frozenset(
    {
        Role.SQUAD_LEADER,
        Role.BRIGADE_LEADER,
        Role.ARCHIVIST,
        Role.CASE_HANDLER,
        Role.LEGAL_REVIEWER,
        Role.ADMIN,
    }
)
