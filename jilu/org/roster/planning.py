"""Planning an import: compare each checked row with the database and work
out the change it makes (create, update or nothing), within the user's scope.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from jilu.org.models import Person, Unit
from jilu.org.roles import Role
from jilu.org.roster.base import (
    _PERSON_COLUMN,
    _UNIT_COLUMN,
    FIELD_LABELS,
    LEVEL_LABELS,
    SHEET_PEOPLE,
    SHEET_UNITS,
    Change,
    _person_shown,
    _roles_text,
    _unit_shown,
)
from jilu.org.roster.validation import _PersonRow, _RowChecker, _UnitRow


class _Planner(_RowChecker):
    # -- units --

    def level_of(self, code: str) -> str | None:
        if code in self.sheet_units:
            return self.sheet_units[code].level
        unit = self.db_units.get(code)
        return unit.level if unit else None

    def plan_units(self, rows: list[_UnitRow]) -> list[Change]:
        order = Unit.LEVEL_ORDER
        changes = []
        for r in rows:
            if (SHEET_UNITS, r.row) in self.problems:
                continue
            bad = partial(self.bad, SHEET_UNITS, r.row)
            parent_db = self.db_units.get(r.parent_code) if r.parent_code else None
            if r.parent_code:
                if r.parent_code not in self.sheet_units and parent_db is None:
                    bad(f"上级单位编号 {r.parent_code} 不存在（单位表和系统中都没有）")
                    continue
                parent_level = self.level_of(r.parent_code)
                if parent_level and order.index(r.level) <= order.index(parent_level):
                    bad(
                        f"层级顺序不对：{LEVEL_LABELS[r.level]}不能隶属于"
                        f"{LEVEL_LABELS[parent_level]}（上级单位 {r.parent_code}）"
                    )
                    continue
            values = {
                "name": r.name,
                "short_name": r.short_name,
                "level": r.level,
                "parent": r.parent_code or None,
                "independently_housed": r.housed,
            }
            unit = self.db_units.get(r.code)
            if unit is None:
                if parent_db is not None and not self.may_add_under(parent_db):
                    bad(f"上级单位 {r.parent_code}（{parent_db.name}）不在你的管理范围内")
                    continue
                if not r.parent_code and not (self.user is None or self.user.is_superuser):
                    bad("只有超级管理员可以新建没有上级的单位（市局）")
                    continue
                facts = [
                    (_UNIT_COLUMN[k], _unit_shown(k, v))
                    for k, v in values.items()
                    if k != "name" and v is not None
                ]
                changes.append(
                    Change(
                        SHEET_UNITS,
                        r.row,
                        r.code,
                        r.name,
                        "create",
                        {"code": r.code, **values},
                        facts=facts,
                    )
                )
                continue
            current = {
                "name": unit.name,
                "short_name": unit.short_name,
                "level": unit.level,
                "parent": unit.parent.code if unit.parent_id else None,
                "independently_housed": unit.independently_housed,
            }
            changed = {k: v for k, v in values.items() if current[k] != v}
            if not changed:
                changes.append(Change(SHEET_UNITS, r.row, r.code, r.name, "unchanged"))
                continue
            if not self.may_change(unit):
                bad(f"单位 {r.code}（{unit.name}）不在你的管理范围内，不能修改")
                continue
            if "parent" in changed and parent_db is not None and not self.may_add_under(parent_db):
                bad(f"上级单位 {r.parent_code}（{parent_db.name}）不在你的管理范围内")
                continue
            if "parent" in changed and not r.parent_code:
                bad("不能把已有单位改为没有上级单位")
                continue
            if "level" in changed:
                problem = self._children_after_level_change(unit, r.level)
                if problem:
                    bad(problem)
                    continue
            diffs = [
                (_UNIT_COLUMN[k], _unit_shown(k, current[k]), _unit_shown(k, v))
                for k, v in changed.items()
            ]
            changes.append(Change(SHEET_UNITS, r.row, r.code, r.name, "update", changed, diffs))
        return changes

    def _children_after_level_change(self, unit: Unit, level: str) -> str:
        order = Unit.LEVEL_ORDER
        for child in self.db_units.values():
            if child.parent_id != unit.pk or child.code in self.sheet_units:
                continue  # a child listed in the sheet is checked on its own row
            if order.index(child.level) <= order.index(level):
                return (
                    f"层级改为{LEVEL_LABELS[level]}后，下级单位 {child.code}"
                    f"（{LEVEL_LABELS[child.level]}）的层级顺序不对"
                )
        return ""

    # -- people --

    def plan_people(self, rows: list[_PersonRow]) -> list[Change]:
        usernames = [r.username for r in rows if r.username]
        existing = {
            p.username: p
            for p in Person.objects.filter(username__in=usernames)
            .select_related("unit")
            .prefetch_related("role_grants")
        }
        for p in existing.values():
            p._roles_cache = frozenset(g.role for g in p.role_grants.all())
        if self.user is None:
            changeable = set(existing)
        else:
            changeable = set(
                Person.objects.restrict(self.user, "change")
                .filter(username__in=usernames)
                .values_list("username", flat=True)
            )
        holders = {
            key: {
                getattr(p, key): p
                for p in Person.objects.filter(
                    **{f"{key}__in": [getattr(r, key) for r in rows if getattr(r, key)]}
                )
            }
            for key in ("user_no", "cert_no")
        }
        by_username = {r.username: r for r in rows}
        changes: dict[int, Change] = {}
        after: dict[int, set[int]] = defaultdict(set)  # row -> rows that must be applied first
        reasons: dict[tuple[int, int], str] = {}
        for r in rows:
            # A row with bad cells is still checked against the database, so all
            # of its problems are reported at once.
            parsed = (SHEET_PEOPLE, r.row) not in self.problems
            bad = partial(self.bad, SHEET_PEOPLE, r.row)
            unit_db = self.db_units.get(r.unit_code)
            values = {
                "name": r.name,
                "user_no": r.user_no or None,
                "cert_no": r.cert_no or None,
                "unit": r.unit_code,
                "frontline": r.frontline,
                "roles": r.roles,
                "phone": r.phone,
                "is_active": r.is_active,
            }
            person = existing.get(r.username)
            if person is None:
                changed = values
                before_roles: frozenset[str] = frozenset()
            else:
                current = {
                    "name": person.name,
                    "user_no": person.user_no,
                    "cert_no": person.cert_no,
                    "unit": person.unit.code if person.unit_id else None,
                    "frontline": person.frontline,
                    "roles": person.roles,
                    "phone": person.phone,
                    "is_active": person.is_active,
                }
                changed = {k: v for k, v in values.items() if current[k] != v}
                before_roles = person.roles
                if not changed and parsed:
                    changes[r.row] = Change(SHEET_PEOPLE, r.row, r.username, r.name, "unchanged")
                    continue
                if r.username not in changeable:
                    bad(f"登录名 {r.username} 已被你管理范围以外的人员使用，不能修改")
                    continue
            problems = []
            if "unit" in changed and unit_db is not None and not self.may_add_under(unit_db):
                problems.append(f"单位 {r.unit_code}（{unit_db.name}）不在你的管理范围内")
            refused = sorted((r.roles or frozenset()) - before_roles - self.grantable)
            if refused:
                problems.append(
                    f"你不能授予“{_roles_text(set(refused))}”角色（只有市局系统管理员可以授予）"
                )
            if person is not None and self.user is not None and person.pk == self.user.pk:
                if r.is_active is False:
                    problems.append("不能停用你自己的账号")
                if r.roles is not None and Role.ADMIN in person.roles and Role.ADMIN not in r.roles:
                    problems.append("不能取消你自己的系统管理员角色")
            for key in ("user_no", "cert_no"):
                value = values[key]
                holder = holders[key].get(value) if value and key in changed else None
                if holder is None or holder.username == r.username:
                    continue
                other = by_username.get(holder.username)
                if other is not None and (getattr(other, key) or None) != value:
                    after[r.row].add(other.row)  # freed by the other row first
                    reasons[(r.row, other.row)] = f"{FIELD_LABELS[key]} {value}"
                    continue
                problems.append(f"{FIELD_LABELS[key]} {value} 已被{self._who(holder)}使用")
            if problems:
                bad("；".join(problems))
                continue
            if not parsed:
                continue
            if person is None:
                changes[r.row] = Change(
                    SHEET_PEOPLE,
                    r.row,
                    r.username,
                    r.name,
                    "create",
                    {"username": r.username, **values},
                    facts=[
                        (_PERSON_COLUMN[k], _person_shown(k, v))
                        for k, v in values.items()
                        if k not in ("name", "is_active") and v not in (None, "", frozenset())
                    ],
                )
            else:
                diffs = [
                    (_PERSON_COLUMN[k], _person_shown(k, current[k]), _person_shown(k, v))
                    for k, v in changed.items()
                ]
                changes[r.row] = Change(
                    SHEET_PEOPLE, r.row, r.username, r.name, "update", changed, diffs
                )
        return self._ordered(changes, after, reasons)

    def _ordered(
        self,
        changes: dict[int, Change],
        after: dict[int, set[int]],
        reasons: dict[tuple[int, int], str],
    ) -> list[Change]:
        """Order rows so a 警号/执法证号 is released before another row takes it."""
        done: list[Change] = []
        placed: set[int] = set()
        pending = sorted(changes)
        while pending:
            ready = [
                row
                for row in pending
                if all(dep in placed or dep not in changes for dep in after[row])
            ]
            if not ready:
                break
            for row in ready:
                done.append(changes[row])
                placed.add(row)
            pending = [row for row in pending if row not in placed]
        for row in pending:  # part of a swap: cannot be applied in any order
            other = min(dep for dep in after[row] if dep in changes and dep not in placed)
            self.bad(
                SHEET_PEOPLE,
                row,
                f"{reasons[(row, other)]} 与第{other}行的人员互换，无法一次导入："
                "请先清空其中一人的这一项导入一次，再导入这份名册",
            )
        return done

    def _who(self, holder: Person) -> str:
        if (
            self.user is None
            or Person.objects.restrict(self.user, "view").filter(pk=holder.pk).exists()
        ):
            return f" {holder.name}（{holder.username}）"
        return "其他单位的人员"
