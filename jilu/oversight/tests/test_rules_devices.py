"""Rules on equipment, the store and access, each with its clause and a case that
must not make a finding: C3.2, C1.4, C1.1, C1.2, C6.5.3–C6.5.7."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from jilu.casework.tests.conftest import T0
from jilu.devices.models import Recorder
from jilu.oversight.tests.findings_fixtures import *  # noqa: F401,F403
from jilu.oversight.tests.findings_fixtures import fact_ids, findings

GB = 1024**3


def _station(tree, unit="squad1"):
    from jilu.devices.actions import create_workstation

    station, _token = create_workstation(actor="system:test", unit=tree[unit], name=f"{unit}站")
    return station


def _dock(station, serial, **readings):
    from jilu.ingest.actions import open_docking

    return open_docking(actor=f"station:{station.pk}", station=station, serial=serial, **readings)


def test_c3_2_clock_off_by_more_than_the_threshold(db, tree, recorders, people, clock, run_rules):
    station = _station(tree)
    fast = _dock(station, "A000001", clock_offset_seconds=61)
    _dock(station, "A000002", clock_offset_seconds=59)
    _dock(station, "A000002", clock_offset_seconds=-60)  # exactly the threshold: not more
    run_rules()
    [finding] = findings("clock_drift")
    assert finding.clause == "C3.2"
    assert finding.subject_kind == "recorder" and finding.subject_id == recorders["officer"].pk
    assert finding.person == people["officer"]  # the holder at docking
    assert fact_ids(finding, "docking") == {str(fast.pk)}
    assert finding.facts.get().detail["offset"] == 61


def test_c3_2_threshold_is_a_setting_with_history(db, tree, recorders, people, clock, run_rules):
    from jilu.oversight import thresholds
    from jilu.oversight.actions import change_setting
    from jilu.oversight.models import RuleSetting

    change_setting(actor=people["admin"], key="clock_drift_seconds", value="30", note="从严")
    change_setting(actor=people["admin"], key="clock_drift_seconds", value="45")
    assert thresholds.get("clock_drift_seconds") == 45
    assert list(
        RuleSetting.objects.filter(key="clock_drift_seconds").values_list("value", flat=True)
    ) == ["45", "30"]
    _dock(_station(tree), "A000001", clock_offset_seconds=50)
    run_rules()
    assert len(findings("clock_drift")) == 1


def test_c1_4_low_battery_or_storage_at_docking(db, tree, recorders, clock, run_rules):
    station = _station(tree)
    low = _dock(
        station, "A000001", battery_pct=15, storage_free_bytes=5 * GB, storage_total_bytes=100 * GB
    )
    _dock(
        station, "A000002", battery_pct=20, storage_free_bytes=10 * GB, storage_total_bytes=100 * GB
    )
    run_rules()
    [battery] = findings("low_battery")
    [storage] = findings("low_storage")
    assert battery.clause == storage.clause == "C1.4"
    assert fact_ids(battery, "docking") == fact_ids(storage, "docking") == {str(low.pk)}
    assert battery.subject_id == recorders["officer"].pk


def test_c1_4_recorder_never_checked(db, tree, recorders, clock, run_rules):
    from jilu.devices.actions import record_check

    Recorder.objects.update(registered_at=timezone.now() - timedelta(days=90))
    record_check(
        actor="system:test",
        recorder=recorders["officer_b"],
        battery_pct=80,
        at=timezone.now() - timedelta(days=1),
    )
    run_rules()
    stale = {f.subject_id for f in findings("not_checked")}
    assert stale == {recorders["officer"].pk, recorders["officer_other"].pk}
    assert all(f.clause == "C1.4" for f in findings("not_checked"))
    # A day later nothing changed: the same findings (one per recorder and month).
    clock.set(timezone.now() + timedelta(days=1))
    run_rules()
    assert {f.subject_id for f in findings("not_checked")} == stale
    assert len(findings("not_checked")) == 2


def test_c1_1_frontline_officer_without_a_recorder(
    db, tree, people, recorders, make_person, clock, run_rules
):
    newcomer = make_person("newcomer", name="赵六")
    make_person("clerk", roles=("case_handler",), frontline=False)  # not frontline: none
    run_rules()
    # The officers holding recorders make none; the squad leader (frontline) has none.
    by_subject = {f.subject_id: f for f in findings("no_recorder")}
    assert set(by_subject) == {newcomer.pk, people["squad_leader"].pk}
    finding = by_subject[newcomer.pk]
    assert finding.clause == "C1.1" and finding.unit == tree["squad1"]
    assert finding.person is None  # the unit answers for the gap


def test_c1_2_squad_without_a_workstation(db, tree, people, clock, run_rules):
    _station(tree, "squad1")
    run_rules()
    units = {f.subject_id for f in findings("no_workstation")}
    assert units == {tree["squad2"].pk, tree["squad3"].pk, tree["brigade2"].pk}
    assert tree["squad1"].pk not in units
    assert all(f.clause == "C1.2" for f in findings("no_workstation"))


def _rehash(recording):
    from jilu.evidence import fixity
    from jilu.evidence.models import StoredObject

    fixity.check_object(StoredObject.objects.get(pk=recording.sha256))


def test_c6_5_3_and_c6_5_4_altered_or_missing_originals(db, make_recording, clock, run_rules):
    from jilu.evidence.store import get_store

    altered, missing, intact = (
        make_recording(),
        make_recording(start=T0 + timedelta(hours=1)),
        make_recording(),
    )
    store = get_store()
    path = store.path(altered.sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    store.delete(missing.sha256)
    for rec in (altered, missing, intact):
        _rehash(rec)
    run_rules()
    [fixity] = findings("fixity_failure")
    [gone] = findings("object_missing")
    assert (fixity.clause, gone.clause) == ("C6.5.3", "C6.5.4")
    assert (fixity.subject_kind, fixity.subject_id) == ("recording", altered.pk)
    assert gone.subject_id == missing.pk
    assert all(
        f.subject_id != intact.pk for f in findings("fixity_failure") + findings("object_missing")
    )


def test_c6_5_5_and_c6_5_6_damaged_or_lost_recorders(db, recorders, people, clock, run_rules):
    from jilu.devices.actions import record_device_event

    record_device_event(
        actor=people["squad_leader"],
        recorder=recorders["officer"],
        kind="loss",
        note="巡查途中遗失",
    )
    record_device_event(
        actor=people["squad_leader"],
        recorder=recorders["officer_b"],
        kind="damage",
        note="跌落摔坏",
    )
    record_device_event(
        actor=people["squad_leader"],
        recorder=recorders["officer_other"],
        kind="fault",
        note="无法开机",
    )
    run_rules()
    [lost] = findings("recorder_lost")
    [damaged] = findings("recorder_damaged")
    assert (lost.clause, damaged.clause) == ("C6.5.6", "C6.5.5")
    assert lost.person == people["officer"] and damaged.person == people["officer_b"]
    assert {lost.subject_id, damaged.subject_id} == {
        recorders["officer"].pk,
        recorders["officer_b"].pk,
    }


def _refused(person, recording, **details):
    from jilu.evidence.playback import note_access

    note_access(
        actor=person,
        recording_id=recording.pk,
        action="refused",
        details={"wanted": "view", **details},
    )


def test_c6_5_7_repeated_refused_access(db, make_recording, people, clock, run_rules):
    other = make_recording("officer_other")
    for _ in range(3):
        _refused(people["officer"], other)
    for _ in range(2):  # below the threshold
        _refused(people["officer_b"], other)
    run_rules()
    [finding] = findings("refused_access")
    assert finding.clause == "C6.5.7" and finding.person == people["officer"]
    assert finding.fact_count == 3
    # Another refusal that day joins; officer_b's third arrives later and counts.
    _refused(people["officer"], other)
    _refused(people["officer_b"], other)
    run_rules()
    by_person = {f.person_id: f for f in findings("refused_access")}
    assert by_person[people["officer"].pk].fact_count == 4
    assert by_person[people["officer_b"].pk].fact_count == 3


def test_c6_5_7_download_without_an_approved_request(db, make_recording, people, clock, run_rules):
    from jilu.evidence.playback import note_access

    rec = make_recording()
    _refused(people["officer"], rec, wanted="download", reason="no_approved_request")
    note_access(
        actor=people["archivist"],
        recording_id=rec.pk,
        action="download",
        details={"request": "DY-1"},
    )
    run_rules()
    [finding] = findings("download_without_request")
    assert finding.clause == "C6.5.7" and finding.person == people["officer"]
    assert findings("refused_access") == []  # one attempt is not "repeated"
    assert not any(f.person == people["archivist"] for f in findings("download_without_request"))
