"""The audit trail (issue #6): transitions, logins, refusals and exports each write an
event (actor, acting-for, object, action, time, address) to an append-only,
hash-chained table; ``cabinet_audit_verify`` names any edited, deleted or inserted
row; no password, code or token is ever in an event."""
import json
import threading
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from cabinet.audit import append, audit_key, verify, verify_main
from cabinet.models import AuditEvent, AuditHead
from tests.conftest import api_token, login

DOC = "/cabinets/parc/patients/leroy/documents/devis"
WRONG_PASSWORD = "Wr0ng-Secret-2026"


def events(engine, action=None):
    table = AuditEvent.__table__
    query = select(table).order_by(table.c.seq)
    if action is not None:
        query = query.where(table.c.action == action)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def check(engine, settings):
    with engine.connect() as conn:
        return verify(conn, audit_key(settings))


def test_a_transition_is_recorded_with_who_what_when_and_where(demo, testapp, engine,
                                                                 settings):
    token = api_token(testapp, "dr.martin")
    testapp.post_json(DOC + "/@workflow/send", {"comment": "pour signature"},
                      headers={"Authorization": f"Bearer {token}",
                               "Accept": "application/json"})
    [event] = events(engine, "transition")
    assert event["actor_login"] == "dr.martin"
    assert event["object_path"] == DOC + "/"
    assert event["details"] == {"transition": "send", "from": "pending", "to": "sent"}
    assert event["address"] == "127.0.0.1"
    assert event["at"] == datetime(2026, 3, 10, 9, 0)      # the clock's time, UTC
    assert event["outcome"] == "ok"
    assert check(engine, settings) == (len(events(engine)), [])


def test_a_secretary_is_recorded_acting_for_the_professional(demo, testapp, engine):
    token = api_token(testapp, "sec.dupont")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    testapp.post_json(DOC + "/@workflow/send", {}, headers=headers)
    [event] = events(engine, "transition")
    assert (event["actor_login"], event["acting_for_login"]) == ("sec.dupont", "dr.martin")


def test_logins_refusals_and_exports_are_recorded_and_hold_no_secret(demo, testapp,
                                                                       engine, settings):
    form = testapp.get("/login").forms[0]
    form["login"], form["password"] = "dr.martin", WRONG_PASSWORD
    form.submit(status=400)
    testapp.post_json("/@login", {"login": "nobody", "password": WRONG_PASSWORD},
                      status=401)
    login(testapp, "p.leroy")
    testapp.get("/cabinets/parc/patients/bernard", headers={"Accept": "application/json"},
                status=403)
    testapp.reset()
    login(testapp, "dr.martin")
    testapp.post("/cabinets/parc/@@sharing", {"q": "x"}, status=403)       # no token
    logins = events(engine, "login")
    assert [(e["outcome"], e["actor_login"], e["details"]) for e in logins] == [
        ("failed", "", {"login": "dr.martin"}), ("failed", "", {"login": "nobody"}),
        ("ok", "p.leroy", None), ("ok", "dr.martin", None)]
    refused = events(engine, "refused")
    assert [(e["outcome"], e["actor_login"], e["object_path"]) for e in refused] == [
        ("forbidden", "p.leroy", "/cabinets/parc/patients/bernard"),
        ("csrf", "dr.martin", "/cabinets/parc/@@sharing")]
    testapp.reset()
    login(testapp, "admin")
    testapp.get("/cabinets/parc/@@secretaries.csv", status=200)
    [export] = events(engine, "export")
    assert (export["actor_login"], export["object_path"]) == ("admin", "/cabinets/parc/")
    text = json.dumps(events(engine), default=str)
    assert WRONG_PASSWORD not in text and "demo\"" not in text
    assert check(engine, settings)[1] == []


def test_a_refused_transition_leaves_the_refusal_not_the_transition(demo, testapp, engine):
    token = api_token(testapp, "p.leroy")
    testapp.post_json(DOC + "/@workflow/send", {}, status=403,
                      headers={"Authorization": f"Bearer {token}",
                               "Accept": "application/json"})
    assert events(engine, "transition") == []
    assert [e["outcome"] for e in events(engine, "refused")] == ["forbidden"]


def _some_events(engine, settings, count=5):
    key = audit_key(settings)
    append(engine, key, [{"at": datetime(2026, 3, 10, 9, i), "action": "login",
                          "outcome": "ok", "actor_id": None, "actor_login": f"user{i}",
                          "acting_for_login": "", "object_path": "", "address": "10.0.0.1",
                          "details": {"n": i}} for i in range(count)])


def test_verify_names_an_edited_row(app, engine, settings):
    _some_events(engine, settings)
    assert check(engine, settings) == (5, [])
    with engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.__table__.c.seq == 3)
                     .values(actor_login="someone-else"))
    count, problems = check(engine, settings)
    assert count == 5 and len(problems) == 1 and problems[0].startswith("event 3 ")


def test_verify_names_deleted_rows_in_the_middle_and_at_the_end(app, engine, settings):
    _some_events(engine, settings)
    table = AuditEvent.__table__
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.seq == 2))
    assert check(engine, settings)[1] == ["events 2 to 2 are missing (deleted)"]
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.seq == 5))
    assert "events 5 to 5 are missing (deleted)" in check(engine, settings)[1]


def test_verify_names_a_forged_row_and_a_rechained_head(app, engine, settings):
    _some_events(engine, settings, 3)
    table = AuditEvent.__table__
    with engine.begin() as conn:
        conn.execute(insert(table).values(
            seq=4, at=datetime(2026, 3, 10, 10, 0), action="login", outcome="ok",
            actor_login="intruder", acting_for_login="", object_path="", address="",
            details=None, hash="0" * 64))
        conn.execute(update(AuditHead.__table__).values(seq=4, hash="0" * 64))
    problems = check(engine, settings)[1]
    assert len(problems) == 1 and problems[0].startswith("event 4 ")


def test_concurrent_appends_keep_one_unbroken_chain(app, engine, settings):
    errors = []

    def work():
        try:
            for _ in range(5):
                _some_events(engine, settings, 2)
        except Exception as exc:      # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert check(engine, settings) == (80, [])
    assert [e["seq"] for e in events(engine)] == list(range(1, 81))


def test_the_command_says_intact_or_broken(app, engine, settings, database_url, tmp_path,
                                           capsys):
    _some_events(engine, settings, 3)
    ini = tmp_path / "audit.ini"
    values = {k: v for k, v in settings.items() if isinstance(v, str)}
    ini.write_text("[app:main]\nuse = egg:cabinet\n" + "".join(
        f"{k} = {v.replace('%', '%%')}\n" for k, v in values.items()))
    assert verify_main(["cabinet_audit_verify", str(ini)]) == 0
    assert "intact: 3 events" in capsys.readouterr().out
    with engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.__table__.c.seq == 1)
                     .values(address="1.2.3.4"))
    assert verify_main(["cabinet_audit_verify", str(ini)]) == 1
    assert "event 1 " in capsys.readouterr().out


def test_a_wrong_code_is_recorded_without_the_code(demo, testapp, engine, settings):
    from tests.views.test_patient_login import LEA
    challenge = testapp.post_json("/@patient-login", LEA).json["challenge"]
    testapp.post_json("/@patient-login/verify", {"challenge": challenge, "code": "123450"},
                      status=422)
    [event] = events(engine, "code")
    assert event["outcome"] == "wrong"
    assert event["details"] == {"purpose": "login", "node_id": None, "tries_left": 4}
    assert "123450" not in json.dumps(events(engine), default=str)
    assert check(engine, settings)[1] == []
