"""The roles a person can hold (DESIGN.md "Users and what they do")."""

from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "执法队员"
    SQUAD_LEADER = "squad_leader", "中队长"
    BRIGADE_LEADER = "brigade_leader", "大队长"
    ARCHIVIST = "archivist", "档案管理员"
    CASE_HANDLER = "case_handler", "案件承办人"
    LEGAL_REVIEWER = "legal_reviewer", "法制审核员"
    INSPECTOR = "inspector", "督察"
    ADMIN = "admin", "系统管理员"


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
