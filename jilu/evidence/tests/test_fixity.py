"""Fixity over time: rolling re-hash, one event per check, alarms (C6.5.3, C6.5.4)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.evidence import fixity
from jilu.evidence.actions import store_object
from jilu.evidence.fixity_tasks import fixity_batch
from jilu.evidence.models import FixityAlarm, FixityCheck, StoredObject


def _store(n: int) -> list[StoredObject]:
    return [
        store_object(actor="system:test", stream=io.BytesIO(f"object {i} ".encode() * 300))
        for i in range(n)
    ]


@pytest.mark.django_db
def test_rolling_schedule_takes_the_oldest_first(store):
    objs = _store(3)
    now = timezone.now()
    StoredObject.objects.filter(pk=objs[0].pk).update(last_fixity_at=now - timedelta(days=1))
    StoredObject.objects.filter(pk=objs[1].pk).update(last_fixity_at=now - timedelta(days=40))
    # objs[2] never checked: first; then the one checked 40 days ago.
    result = fixity.run_fixity_batch(2)
    assert (result.checked, result.ok, result.alarms) == (2, 2, 0)
    checked = set(FixityCheck.objects.values_list("stored_object_id", flat=True))
    assert checked == {objs[2].pk, objs[1].pk}
    assert fixity.due_queryset().count() == 0  # objs[0] was checked a day ago: not due
    fixity.run_fixity_batch(1)
    assert FixityCheck.objects.filter(stored_object=objs[0]).count() == 1


@pytest.mark.django_db
def test_a_flipped_byte_raises_the_alarm_on_the_next_check(store, behind, client, people):
    """C6.5.3: altered bytes are found by the scheduled re-hash (both backends).

    On the filesystem the file's bytes change; on S3 a version's bytes cannot,
    so the altered bytes arrive as a newer version of the key: the check still
    reads the recorded version (intact) and the alarm names the newer one."""
    (obj,) = _store(1)
    assert fixity.run_fixity_batch(10).alarms == 0
    newer = behind.flip_byte(obj.sha256, 17)
    StoredObject.objects.update(last_fixity_at=timezone.now() - timedelta(days=31))
    # The scheduled task, run the way the worker runs it.
    outcome = fixity_batch.call()
    assert outcome["alarms"] == 1
    alarm = FixityAlarm.objects.get()
    if store.kind == "file":
        said = "SHA-256 不符"
        assert "SHA-256 不符" in alarm.problem and "SM3 不符" in alarm.problem
    else:
        said = newer
        assert "新版本" in alarm.problem and newer in alarm.problem
        assert obj.version_id and obj.version_id in alarm.problem
        assert "不符" not in alarm.problem  # the recorded version itself is intact
        assert alarm.fixity_check.sha256_found == obj.sha256
    assert alarm.fixity_check.ok is False
    assert FixityCheck.objects.filter(stored_object=obj).count() == 2  # one event per check
    assert AuditEntry.objects.filter(action="evidence.fixity.alarm").count() == 1
    client.force_login(people["inspector"])
    page = client.get(reverse("evidence:alarm_list")).content.decode()
    assert said in page


@pytest.mark.django_db
def test_a_missing_object_raises_the_alarm(store, behind):
    """C6.5.4: lost bytes are found too."""
    (obj,) = _store(1)
    behind.remove(obj.sha256)
    result = fixity.run_fixity_batch(5)
    assert result.alarms == 1
    alarm = FixityAlarm.objects.get()
    assert "缺失" in alarm.problem
    assert alarm.fixity_check.size_found is None


@pytest.mark.django_db
def test_batch_size_covers_every_object_once_per_period(settings, store):
    settings.FIXITY_PERIOD_DAYS = 1
    settings.FIXITY_INTERVAL_MINUTES = 60  # 24 runs a day
    settings.FIXITY_BATCH_SIZE = 1
    _store(50)
    assert fixity.due_batch_size() == 3  # ceil(50 / 24)


@pytest.fixture
def alarm(settings, tmp_path, db):
    from jilu.evidence.tests.conftest import Behind, use_store

    store = use_store(settings, tmp_path, "file")
    (obj,) = _store(1)
    Behind(store).flip_byte(obj.sha256)
    fixity.run_fixity_batch(1)
    return FixityAlarm.objects.get()


@pytest.mark.django_db
def test_alarm_page_permissions(client, people, alarm):
    url = reverse("evidence:alarm_list")
    for name in ("admin", "inspector", "squad_admin"):
        client.force_login(people[name])
        assert client.get(url).status_code == 200, name
    for name in ("officer", "squad_leader", "brigade_leader", "archivist", "legal_reviewer"):
        client.force_login(people[name])
        assert client.get(url).status_code == 403, name
        ack = reverse("evidence:alarm_acknowledge", args=[alarm.pk])
        assert client.post(ack, {"note": "x"}).status_code == 403, name
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_inspectors_see_alarms_but_only_administrators_acknowledge(client, people, alarm):
    """C6.4: the inspection department reads everything and changes nothing."""
    client.force_login(people["inspector"])
    html = client.get(reverse("evidence:alarm_list")).content.decode()
    assert alarm.problem in html and "ack-form" not in html and "待系统管理员处理" in html
    ack = reverse("evidence:alarm_acknowledge", args=[alarm.pk])
    assert client.post(ack, {"note": "已看到"}).status_code == 403
    with pytest.raises(ValidationError, match="只有系统管理员"):
        fixity.acknowledge_alarm(actor=people["inspector"], alarm=alarm, note="已看到")
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None
    client.force_login(people["admin"])
    assert "ack-form" in client.get(reverse("evidence:alarm_list")).content.decode()


@pytest.mark.django_db
def test_acknowledge_with_note_is_audited(client, people, alarm):
    client.force_login(people["admin"])
    ack = reverse("evidence:alarm_acknowledge", args=[alarm.pk])
    client.post(ack, {"note": ""})
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None  # a note is required
    response = client.post(ack, {"note": "已从备份恢复"}, follow=True)
    assert response.status_code == 200
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == people["admin"] and alarm.note == "已从备份恢复"
    entry = AuditEntry.objects.get(action="evidence.fixity.acknowledge")
    assert entry.details["note"] == "已从备份恢复"
    assert "已从备份恢复" not in client.get(reverse("evidence:alarm_list")).content.decode()
    assert (
        "已从备份恢复" in client.get(reverse("evidence:alarm_list") + "?show=all").content.decode()
    )
    with pytest.raises(ValidationError):
        fixity.acknowledge_alarm(actor=people["inspector"], alarm=alarm, note="again")


@pytest.mark.django_db
def test_scheduled_run_rereads_only_what_is_due(settings, store):
    """C6.5.3: the scheduled run re-reads each object once a period, not once a run:
    a small store is not re-read every hour."""
    settings.FIXITY_PERIOD_DAYS = 30
    objs = _store(5)
    first = fixity_batch.call()
    assert first["checked"] == 5  # never re-read since stored: all due
    assert fixity_batch.call()["checked"] == 0  # an hour later: nothing is due
    assert FixityCheck.objects.count() == 5
    # One object's last check falls out of the period: only it is re-read.
    StoredObject.objects.filter(pk=objs[3].pk).update(
        last_fixity_at=timezone.now() - timedelta(days=31)
    )
    assert fixity_batch.call()["checked"] == 1
    assert FixityCheck.objects.filter(stored_object=objs[3]).count() == 2
    # A manual run with a limit still takes the oldest, due or not.
    assert fixity.run_fixity_batch(2).checked == 2


@pytest.mark.django_db
def test_an_open_problem_is_raised_once(store, behind):
    """C6.5.3, C6.5.4: the same problem found again while its alarm is open adds a
    check, not another alarm; after it is acknowledged, still finding it raises a
    new one, and a different problem raises its own."""
    from jilu.org.models import Person

    (obj,) = _store(1)
    behind.flip_byte(obj.sha256, 3)
    for _ in range(3):
        fixity.run_fixity_batch(1)
    assert FixityCheck.objects.filter(ok=False).count() == 3
    alarm = FixityAlarm.objects.get()
    assert AuditEntry.objects.filter(action="evidence.fixity.alarm").count() == 1

    admin = Person.objects.create_user(username="fixity-admin", name="管理员", password="x")
    admin.is_superuser = True
    admin.save()
    fixity.acknowledge_alarm(actor=admin, alarm=alarm, note="已报告，等待从备份恢复")
    fixity.run_fixity_batch(1)
    assert FixityAlarm.objects.count() == 2
    assert fixity.open_alarms().count() == 1

    behind.remove(obj.sha256)
    fixity.run_fixity_batch(1)
    assert fixity.open_alarms().count() == 2
    assert "缺失" in fixity.open_alarms().order_by("-pk").first().problem
    assert list(StoredObject.objects.filter(pk__in=fixity.alarmed_objects())) == [obj]


@pytest.mark.django_db
def test_open_alarms_are_on_the_oversight_home_pages(client, people, alarm):
    """C6.5.3, C6.5.4, C6.4: administrators and inspectors see open alarms on their
    home page, not only when they think of opening the alarm list."""
    for name in ("admin", "inspector"):
        client.force_login(people[name])
        html = client.get("/").content.decode()
        assert 'id="fixity-card" data-count="1"' in html, name
        assert "1</strong> 条未确认" in html
        assert reverse("evidence:alarm_list") in html
    client.force_login(people["squad_leader"])
    assert 'id="fixity-card"' not in client.get("/").content.decode()
    fixity.acknowledge_alarm(actor=people["admin"], alarm=alarm, note="已从备份恢复")
    client.force_login(people["inspector"])
    html = client.get("/").content.decode()
    assert 'id="fixity-card" data-count="0"' in html and "没有未确认的告警" in html


@pytest.mark.django_db
def test_shares_are_disjoint_and_cover_every_object(settings, store):
    """Parallel batches (JILU_FIXITY_PARALLEL) never re-read the same object, and
    together they check every due object once (C6.5.3)."""
    objs = _store(40)
    for part in range(3):
        fixity_batch.call(part=part, parts=3)
    checked = list(FixityCheck.objects.values_list("stored_object_id", flat=True))
    assert sorted(checked) == sorted(o.pk for o in objs)
    with pytest.raises(ValueError, match="parts must be 1–16"):
        fixity.share_q(3, 3)


@pytest.mark.django_db
def test_home_counts_processing_problems_up_to_a_cap(
    client, people, settings, monkeypatch, tmp_path
):
    """The home card's count of failed or stuck processing is capped and kept for a
    minute, so an administrator's home page stays quick at city scale."""
    from jilu.evidence import task_views
    from jilu.evidence.tests.conftest import use_store
    from jilu.evidence.tests.recordings import make_recording, recorder_for

    use_store(settings, tmp_path, "file")
    monkeypatch.setattr(task_views, "PROBLEM_CAP", 2)
    recorder = recorder_for(people["officer"], people["officer"].unit, "A000777")
    old = timezone.now() - timedelta(hours=2)
    for n in range(4):
        rec = make_recording(officer=people["officer"], recorder=recorder, start=old)
        type(rec).objects.filter(pk=rec.pk).update(created_at=old + timedelta(minutes=n))
    client.force_login(people["admin"])
    html = client.get("/").content.decode()
    assert 'id="processing-card" data-count="2"' in html and "2+</strong>" in html
