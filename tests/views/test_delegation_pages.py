"""The secretaries' pages as people see them: what a secretary sees and may not do,
"S for P" in the history, and the group delegation on "Mes secrétaires"."""
from sqlalchemy import select

from cabinet.models import Group, GroupMember, User
from tests.conftest import login

DELEGATIONS = "/professionals/martin/delegations"


def test_secretary_act_shows_as_s_for_p(demo, api, testapp):
    api("sec.dupont").post("/cabinets/parc/patients/leroy/documents/devis/@workflow/send")
    login(testapp, "dr.martin")
    page = testapp.get("/cabinets/parc/patients/leroy/documents/devis")
    assert "Sophie Dupont pour Dr Paul Martin" in page.text


def test_secretary_sees_no_buttons_and_cannot_add(demo, testapp):
    login(testapp, "sec.dupont")
    page = testapp.get(DELEGATIONS)
    assert "Sophie Dupont" in page.text
    assert "Ajouter une secrétaire" not in page.text
    assert 'name="transition"' not in page.text
    testapp.get(f"{DELEGATIONS}/@@add", status=403)
    response = testapp.post(f"{DELEGATIONS}/sec-dupont/@@action",
                            {"transition": "end",
                             "csrf_token": page.forms[0]["csrf_token"].value}, status=403)
    assert response.status_int == 403


def test_unrelated_professional_cannot_see_the_list(demo, testapp):
    login(testapp, "dr.weber")
    testapp.get(DELEGATIONS, status=403)


def test_group_delegation_on_the_list(demo, api, testapp, db):
    with db() as request:
        group = Group(name="accueil", title="Accueil du Parc")
        request.dbsession.add(group)
        request.dbsession.flush()
        dupont = request.dbsession.scalar(select(User).where(User.login == "sec.dupont"))
        request.dbsession.add(GroupMember(group_id=group.id, user_id=dupont.id))
    api("admin").post("/cabinets/parc/@secretaries", {
        "professional": "martin", "group": "accueil", "start_date": "2026-03-10",
        "end_date": "2026-06-30", "can_sign": True}, status=201)
    login(testapp, "dr.martin")
    page = testapp.get(DELEGATIONS)
    assert "Groupe Accueil du Parc" in page.text
    assert "Sophie Dupont" in page.text and "30/06/2026" in page.text


def test_add_page_needs_csrf(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.post(f"{DELEGATIONS}/@@add", {"matricule": "1990063047606", "step": "2",
                                                "email": "m@parc.example",
                                                "start_date": "2026-03-10"}, status=403)
    assert "Marc Schmit" not in page.text
    assert "Marc Schmit" not in testapp.get(DELEGATIONS).text
