"""Issue #10 (A4), first step: the pages in French (default), German and English.

The catalogs: every string marked in templates/ (extracted again here, with babel.cfg's
mapping) is in the German and English catalogs, translated and not fuzzy, and the
compiled .mo files say the same as the .po files. The pages: the browser's
Accept-Language chooses among fr, de and en, French otherwise; the header's language
switcher (@@language) overrides it; <html lang> follows."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "cabinet" / "locale"
TRANSLATED = ("de", "en")


def read_catalog(lang):
    with open(LOCALE / lang / "LC_MESSAGES" / "cabinet.po", "rb") as f:
        return read_po(f, locale=lang, domain="cabinet")


def extracted_msgids():
    """The msgids of templates/ and of cabinet/ (``N_()``, ``TranslationString()``,
    ``C_()``), extracted as `make update-catalogs` does: {msgid: first file}, a msgid
    with a context (msgctxt) as (msgid, context)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "TranslationString": None, "C_": ((1, "c"), 2)}
    found = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((msgid, context) if context else msgid, filename)
    return found


@pytest.fixture(scope="module")
def msgids():
    found = extracted_msgids()
    from_templates = [m for m, filename in found.items() if filename.startswith("templates/")]
    assert len(from_templates) > 300, "the extraction found too few template strings"
    assert "Facturation" in found  # a title of cabinet/mandates.py marked with N_()
    return found


@pytest.mark.parametrize("lang", ("fr",) + TRANSLATED)
def test_every_template_string_is_in_the_catalog(msgids, lang):
    catalog = read_catalog(lang)
    missing = sorted(f"{msgids[m]}: {m}" for m in msgids
                     if catalog.get(*m if isinstance(m, tuple) else (m,)) is None)
    assert not missing, (f"{len(missing)} marked strings not in the {lang} catalog "
                         f"(run `make update-catalogs`, translate, `make catalogs`): "
                         f"{missing[:20]}")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_german_and_english_catalogs_are_fully_translated(lang):
    catalog = read_catalog(lang)
    assert not catalog.fuzzy
    messages = [m for m in catalog if m.id]
    untranslated = [m.id for m in messages if not m.string]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated in {lang}: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy[:20]}"
    for message in messages:
        # the same %(name)s placeholders as the French text, and no French left behind
        assert (sorted(re.findall(r"%\(\w+\)s", message.string))
                == sorted(re.findall(r"%\(\w+\)s", message.id))), message.id
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems, problems


@pytest.mark.parametrize("lang", ("fr",) + TRANSLATED)
def test_compiled_catalogs_match_their_po_files(lang):
    """The .mo files Pyramid reads are those of the .po files (`make catalogs`)."""
    with open(LOCALE / lang / "LC_MESSAGES" / "cabinet.mo", "rb") as f:
        # (babel's read_mo gives a msgctxt as bytes)
        compiled = {(m.id, m.context.decode() if isinstance(m.context, bytes) else m.context):
                    m.string for m in read_mo(f) if m.id}
    wanted = {(m.id, m.context): m.string for m in read_catalog(lang) if m.id and m.string}
    assert compiled == wanted


# -- pages ------------------------------------------------------------------------------

LOGIN_TEXTS = {
    "fr": ("Connexion", "Identifiant", "Mot de passe", "Se connecter"),
    "de": ("Anmeldung", "Kennung", "Passwort", "Anmelden"),
    "en": ("Log in", "ID", "Password", "Log in"),
}
HOME_TEXTS = {
    "fr": ("Mes accès", "Se déconnecter", "Titre", "Modifié"),
    "de": ("Meine Zugänge", "Abmelden", "Titel", "Geändert"),
    "en": ("My access", "Log out", "Title", "Modified"),
}


def html_lang(response):
    return response.html.find("html")["lang"]


def texts_of(response):
    return " ".join(response.html.get_text(" ").split())


def assert_language(response, lang, expected):
    assert html_lang(response) == lang
    shown = texts_of(response)
    for text in expected[lang]:
        assert text in shown, (lang, text)
    for other, other_texts in expected.items():
        if other != lang:
            # the texts proper to the other languages are absent
            for text in set(other_texts) - set(expected[lang]) - {"ID"}:
                assert text not in shown, (lang, other, text)


def test_login_page_french_by_default(testapp):
    response = testapp.get("/login")
    assert_language(response, "fr", LOGIN_TEXTS)
    # a language out of the three, or none acceptable: French
    for header in ("it-IT,it;q=0.9", "pt", "*"):
        response = testapp.get("/login", headers={"Accept-Language": header})
        assert_language(response, "fr", LOGIN_TEXTS)


@pytest.mark.parametrize("header,lang", [
    ("fr-FR,fr;q=0.9", "fr"), ("fr", "fr"),
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("de-LU", "de"),
    ("en-GB,en;q=0.9", "en"), ("en-US", "en"),
    ("it,en;q=0.7,de;q=0.5", "en"),        # the best one among the three
    ("de;q=0.3,fr;q=0.6", "fr"),
])
def test_login_page_follows_accept_language(testapp, header, lang):
    response = testapp.get("/login", headers={"Accept-Language": header})
    assert_language(response, lang, LOGIN_TEXTS)


@pytest.mark.parametrize("lang", ["fr", "de", "en"])
def test_logged_in_page_in_each_language(testapp, demo, lang):
    login(testapp, "dr.martin")
    response = testapp.get("/", headers={"Accept-Language": lang})
    assert_language(response, lang, HOME_TEXTS)
    # the switcher offers the three languages, the current one marked (signed in:
    # buttons of a form, which keeps the choice in the profile)
    buttons = response.html.select("nav.languages form button")
    assert [b.get_text() for b in buttons] == ["FR", "DE", "EN"]
    assert [b["lang"] for b in buttons if b.get("aria-current")] == [lang]


@pytest.mark.parametrize("lang,texts", [
    ("fr", ("Envoyés, non remplis", "Questionnaires envoyés", "Filtrer")),
    ("de", ("Gesendet, nicht ausgefüllt", "Versendete Fragebögen", "Filtern")),
    ("en", ("Sent, not filled in", "Questionnaires sent", "Filter")),
])
def test_console_page_with_titles_kept_in_python(testapp, demo, lang, texts):
    """A page whose titles come from a Python constant marked with N_()."""
    login(testapp, "dr.martin")
    response = testapp.get("/cabinets/parc/@@questionnaires",
                           headers={"Accept-Language": lang})
    assert html_lang(response) == lang
    shown = texts_of(response)
    for text in texts:
        assert text in shown, text


def test_switcher_choice_overrides_accept_language(testapp, demo):
    response = testapp.get("/login", headers={"Accept-Language": "de"})
    assert_language(response, "de", LOGIN_TEXTS)
    english = response.html.select_one('nav.languages a[lang="en"]')["href"]
    chosen = testapp.get(english, headers={"Accept-Language": "de"})
    assert chosen.status_int == 303
    assert chosen.location == "http://localhost/login"
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("cabinet_lang=en;") and "HttpOnly" in cookie
    response = chosen.follow(headers={"Accept-Language": "de"})
    assert_language(response, "en", LOGIN_TEXTS)
    # the choice stays after logging in (the login form itself keeps it too)
    login(testapp, "dr.martin")
    response = testapp.get("/", headers={"Accept-Language": "de"})
    assert_language(response, "en", HOME_TEXTS)
    # and can be changed again: back to French although the browser prefers German
    response = choose(response, "fr", headers={"Accept-Language": "de"})
    assert_language(response, "fr", HOME_TEXTS)


def choose(page, lang, **kw):
    """Press a language button of the signed-in switcher; the page it comes back to."""
    form = next(f for f in page.forms.values() if f.action.endswith("/@@language"))
    response = form.submit("lang", value=lang, **kw)
    assert response.status_int == 303
    return response.follow(**kw)


def stored_language(db, login_name):
    from sqlalchemy import select
    from cabinet.models import User
    with db() as request:
        return request.dbsession.scalar(select(User.language).where(User.login == login_name))


def test_the_choice_of_a_signed_in_user_is_kept_in_the_profile(testapp, demo, db, app):
    import webtest
    login(testapp, "dr.martin")
    page = testapp.get("/", headers={"Accept-Language": "fr"})
    assert stored_language(db, "dr.martin") is None
    page = choose(page, "de", headers={"Accept-Language": "fr"})
    assert_language(page, "de", HOME_TEXTS)
    assert page.request.path == "/"                      # back on the same page
    assert stored_language(db, "dr.martin") == "de"
    # another browser (no cookie, an English one): German as soon as he is known
    other = webtest.TestApp(app)
    assert_language(other.get("/login", headers={"Accept-Language": "en"}), "en",
                    LOGIN_TEXTS)
    login(other, "dr.martin")
    assert_language(other.get("/", headers={"Accept-Language": "en"}), "de", HOME_TEXTS)
    # after logging out, the visitor's own language again
    other.post("/logout", {"csrf_token": other.get("/").html.find(
        "input", {"name": "csrf_token"})["value"]})
    other.reset()
    assert_language(other.get("/login", headers={"Accept-Language": "en"}), "en",
                    LOGIN_TEXTS)


def test_the_switcher_form_checks_csrf_and_the_language(testapp, demo, db):
    login(testapp, "dr.martin")
    page = testapp.get("/")
    testapp.post("/@@language", {"lang": "de", "came_from": "/"}, status=403)
    assert stored_language(db, "dr.martin") is None
    form = next(f for f in page.forms.values() if f.action.endswith("/@@language"))
    # a forged value instead of a button's
    response = testapp.post("/@@language", {"lang": "xx", "came_from": "/",
                                            "csrf_token": form["csrf_token"].value},
                            status=422)
    assert "Langue inconnue" in response.text
    assert stored_language(db, "dr.martin") is None


def test_a_choice_made_before_login_goes_into_an_empty_profile_only(testapp, demo, db):
    testapp.get("/@@language?lang=en&came_from=/login")
    login(testapp, "dr.martin")
    assert stored_language(db, "dr.martin") == "en"
    page = choose(testapp.get("/"), "de")
    assert_language(page, "de", HOME_TEXTS)
    # a later visitor's cookie does not overwrite a choice already made
    testapp.reset()
    testapp.get("/@@language?lang=fr&came_from=/login")
    login(testapp, "dr.martin")
    assert stored_language(db, "dr.martin") == "de"
    assert_language(testapp.get("/"), "de", HOME_TEXTS)


def test_language_in_json(testapp, demo, api, db):
    response = testapp.get("/@language", headers={"Accept": "application/json",
                                                  "Accept-Language": "de"})
    assert response.json["language"] == "de"
    assert response.json["preference"] is None
    assert [a["code"] for a in response.json["available"]] == ["fr", "de", "en"]
    testapp.patch_json("/@language", {"language": "de"}, status=401)
    martin = api("dr.martin")
    response = martin.patch("/@language", {"language": "en"})
    assert (response.json["language"], response.json["preference"]) == ("en", "en")
    assert stored_language(db, "dr.martin") == "en"
    for body, field in (({"language": "it"}, "language"), ({}, "language"),
                        ({"language": "de", "fullname": "X"}, "fullname"),
                        ({"language": ["de"]}, "language")):
        response = martin.patch("/@language", body, status=422)
        assert field in response.json["errors"], body
    assert stored_language(db, "dr.martin") == "en"
    # null forgets the choice: the browser's language applies again
    response = testapp.patch_json("/@language", {"language": None},
                                  headers={**martin.headers, "Accept-Language": "de"})
    assert (response.json["language"], response.json["preference"]) == ("de", None)
    assert stored_language(db, "dr.martin") is None


def test_locale_query_parameter_overrides_everything(testapp):
    testapp.get("/@@language?lang=en&came_from=/login")
    response = testapp.get("/login?_LOCALE_=de", headers={"Accept-Language": "fr"})
    assert_language(response, "de", LOGIN_TEXTS)
    # an unknown value is ignored
    response = testapp.get("/login?_LOCALE_=xx", headers={"Accept-Language": "fr"})
    assert_language(response, "en", LOGIN_TEXTS)


@pytest.mark.parametrize("came_from", ["https://evil.example/", "//evil.example/x",
                                       "evil", "", "/\\evil.example"])
def test_language_switch_goes_back_to_local_paths_only(testapp, came_from):
    response = testapp.get("/@@language", {"lang": "de", "came_from": came_from})
    assert response.status_int == 303
    assert response.location.startswith("http://localhost/")
    assert "evil.example" not in response.location.split("/")[2]


def test_unknown_language_is_not_kept(testapp):
    response = testapp.get("/@@language", {"lang": "xx", "came_from": "/login"})
    assert response.status_int == 303
    assert "Set-Cookie" not in response.headers
    # a forged cookie value is ignored as well
    testapp.set_cookie("cabinet_lang", "xx")
    response = testapp.get("/login", headers={"Accept-Language": "en"})
    assert_language(response, "en", LOGIN_TEXTS)


@pytest.mark.parametrize("lang,published,accepted", [
    ("fr", "publiée le 10/03/2026", "le 10/03/2026 à 09:00"),
    ("de", "am 10.03.2026", "am 10.03.2026 um 09:00"),
    ("en", "Mar 10, 2026", "Mar 10, 2026 at 9:00 AM"),
])
def test_dates_and_times_in_the_language_of_the_page(testapp, demo, lang, published,
                                                      accepted):
    """Babel's formats (cabinet.formats): the terms page's dates in each language (the
    demo publishes the terms and dr.martin accepts them on 10 March 2026 at 09:00)."""
    login(testapp, "dr.martin")
    page = testapp.get("/terms", headers={"Accept-Language": lang})
    shown = texts_of(page)
    assert published in shown and accepted in shown, shown


@pytest.mark.parametrize("lang,expected", [
    ("fr", ("1\u202f234,50\u00a0€", "24/11/2026", "09:05")),
    ("de", ("1.234,50\u00a0€", "24.11.2026", "09:05")),
    ("en", ("€1,234.50", "Nov 24, 2026", "9:05\u202fAM")),
])
def test_amount_and_date_filters(lang, expected):
    from datetime import datetime
    from decimal import Decimal
    from types import SimpleNamespace
    from cabinet import formats
    request = SimpleNamespace(locale_name=lang)
    moment = datetime(2026, 11, 24, 9, 5)
    assert (formats.amount(request, Decimal("1234.50")), formats.date(request, moment),
            formats.time(request, moment)) == expected
    assert formats.date(request, None) == formats.amount(request, None) == ""


@pytest.mark.parametrize("lang,title,message", [
    ("fr", "404 · Page introuvable", "Il n'y a rien ici."),
    ("de", "404 · Seite nicht gefunden", "Hier gibt es nichts."),
    ("en", "404 · Page not found", "There is nothing here."),
])
def test_error_pages_in_the_language_of_the_reader(testapp, demo, lang, title, message):
    login(testapp, "dr.martin")
    page = testapp.get("/cabinets/parc/nowhere/at-all", status=404,
                       headers={"Accept-Language": lang, "Accept": "text/html"})
    assert html_lang(page) == lang
    assert page.html.find("h1").get_text(strip=True) == title
    assert page.html.select_one("p[role=alert]").get_text(strip=True) == message


@pytest.mark.parametrize("lang,message", [
    ("de", "Das Sicherheitstoken dieses Formulars fehlt oder ist abgelaufen."),
    ("en", "The security token of this form is missing or expired."),
])
def test_the_csrf_refusal_page_in_the_language_of_the_reader(testapp, demo, lang, message):
    login(testapp, "dr.martin")
    page = testapp.post("/logout", {"csrf_token": "forged"}, status=403,
                        headers={"Accept-Language": lang})
    assert message in page.html.select_one("p[role=alert]").get_text(" ", strip=True)


def test_a_listing_in_each_language_in_turn_with_the_templates_memo(testapp, demo,
                                                                    monkeypatch):
    """The templates' _() translates each (language, text) once per process
    (cabinet.i18n.TemplateGettext): the listing's per-row column labels are right in
    every language, whatever the language of the page before, and the second
    rendering of a page translates none of its template texts again."""
    from pyramid.i18n import Localizer

    login(testapp, "dr.martin")
    labels = {"fr": "Modifié", "de": "Geändert", "en": "Modified"}
    calls = []
    translate = Localizer.translate
    monkeypatch.setattr(Localizer, "translate",
                        lambda self, *a, **k: calls.append(a) or translate(self, *a, **k))
    for lang in ("fr", "de", "en", "fr", "en", "de"):
        page = testapp.get("/cabinets/parc/patients",
                           headers={"Accept-Language": lang})
        cells = [td["data-label"] for td in page.html.select("section.listing td[data-label]")]
        assert len(cells) >= 6
        assert set(cells) >= {labels[lang]}
        assert not set(cells) & (set(labels.values()) - {labels[lang]})
    calls.clear()
    testapp.get("/cabinets/parc/patients", headers={"Accept-Language": "de"})
    translated_again = {call[0] for call in calls if call} & {"Titre", "Type", "État",
                                                             "Modifié"}
    assert not translated_again


@pytest.mark.parametrize("lang,expected", [
    ("fr", {"type": "Document", "state": "Envoyé", "fields": ["Description", "Signature requise"],
            "buttons": ["Retirer l'envoi"], "listed": {"Annulé", "Effectué"}}),
    ("de", {"type": "Dokument", "state": "Gesendet",
            "fields": ["Beschreibung", "Unterschrift erforderlich"],
            "buttons": ["Versand zurückziehen"], "listed": {"Abgesagt", "Erledigt"}}),
    ("en", {"type": "Document", "state": "Sent", "fields": ["Description", "Signature required"],
            "buttons": ["Withdraw"], "listed": {"Cancelled", "Done"}}),
])
def test_workflow_type_and_field_titles_in_the_language_of_the_page(testapp, demo, lang,
                                                                   expected):
    """The names kept in the workflow definitions (states, transitions) and in
    cabinet.labels (types, fields, roles) are msgids of the catalogs too: a German
    or English page shows none of them in French."""
    login(testapp, "dr.martin")
    page = testapp.get("/cabinets/parc/patients/leroy/documents/consentement",
                       headers={"Accept-Language": lang})
    assert page.html.select_one("span.type").get_text() == expected["type"]
    assert page.html.select_one("span.badge").get_text() == expected["state"]
    assert [dt.get_text() for dt in page.html.select("dl.fields dt")] == expected["fields"]
    buttons = page.html.select("form.transitions button[name=transition]")
    assert [b.get_text() for b in buttons] == expected["buttons"]
    record = testapp.get("/cabinets/parc/patients/leroy", headers={"Accept-Language": lang})
    states = {b.get_text() for b in record.html.select("section.listing span.badge")}
    assert expected["listed"] <= states


def test_every_workflow_title_is_extracted():
    """babel.cfg extracts the titles of workflows/*.yaml (cabinet.workflow.extract),
    so that the catalog test above covers them."""
    found = extracted_msgids()
    for title in ("Envoyé", "Signé", "Retiré", "Actif", "Invitée", "Marquer effectué"):
        assert found.get(title, "").startswith(("workflows/", "templates/", "cabinet/")), title
    assert any(filename.startswith("workflows/") for filename in found.values())


def fields_of(page):
    return dict(zip((dt.get_text() for dt in page.html.select("dl.fields dt")),
                    (dd.get_text() for dd in page.html.select("dl.fields dd"))))


@pytest.mark.parametrize("lang,expected", [
    ("fr", {"type": "Rendez-vous", "folder": "Rendez-vous",
            "sections": ["Patients", "Modèles de questionnaires"],
            "signature": ("Signature requise", "oui"), "sharing": "Partage : Léa Leroy",
            "care": ("Date du soin", "07/03/2026", "Montant dû", "250,00 €"),
            "message_time": "08/03/2026 09:00", "size_unit": " octets)"}),
    ("de", {"type": "Termin", "folder": "Termine",
            "sections": ["Patienten", "Fragebogenvorlagen"],
            "signature": ("Unterschrift erforderlich", "ja"), "sharing": "Freigabe: Léa Leroy",
            "care": ("Behandlungsdatum", "07.03.2026", "Geschuldeter Betrag", "250,00\xa0€"),
            "message_time": "08.03.2026 09:00", "size_unit": " Bytes)"}),
    ("en", {"type": "Appointment", "folder": "Appointments",
            "sections": ["Patients", "Questionnaire templates"],
            "signature": ("Signature required", "yes"), "sharing": "Sharing: Léa Leroy",
            "care": ("Date of care", "Mar 7, 2026", "Amount due", "€250.00"),
            "message_time": "Mar 8, 2026 9:00\u202fAM", "size_unit": " bytes)"}),
])
def test_values_names_and_typography_in_the_language_of_the_page(testapp, demo, lang,
                                                                 expected):
    """One French word, two meanings: "Rendez-vous" names the type (one appointment,
    "Termin") and the folder (the appointments, "Termine"): the types' names carry a
    msgctxt (cabinet.i18n.C_). Folders keep the French title Cabinet gave them in the
    database and are shown in the reader's language; yes and no, dates, amounts and
    the colon are the reader's (cabinet.labels.display, cabinet.i18n.labelled)."""
    login(testapp, "dr.martin")
    headers = {"Accept-Language": lang}
    leroy = "/cabinets/parc/patients/leroy"
    page = testapp.get(f"{leroy}/appointments/controle-passe", headers=headers)
    assert page.html.select_one("span.type").get_text() == expected["type"]
    page = testapp.get(f"{leroy}/appointments", headers=headers)
    assert page.html.select_one("h1").get_text() == expected["folder"]
    page = testapp.get("/cabinets/parc", headers=headers)
    assert [a.get_text() for a in page.html.select("section.listing h2 a")] \
        == expected["sections"]
    page = testapp.get(f"{leroy}/documents/consentement", headers=headers)
    label, value = expected["signature"]
    assert fields_of(page)[label] == value
    page = testapp.get(f"{leroy}/@@sharing", headers=headers)
    assert page.html.select_one("h1").get_text() == expected["sharing"]
    page = testapp.get(f"{leroy}/payments/couronne", headers=headers)
    date_label, date, amount_label, amount = expected["care"]
    assert fields_of(page)[date_label] == date
    assert fields_of(page)[amount_label] == amount.replace("\xa0", " ")
    page = testapp.get(f"{leroy}/@@conversation", headers=headers)
    assert expected["message_time"] in [t.get_text() for t in page.html.select("time")]
    # an attachment's size
    assert any(small.get_text().endswith(expected["size_unit"])
               for small in page.html.select("ol.thread small"))


def test_a_folder_renamed_keeps_its_own_title_in_every_language(testapp, demo, db):
    """Only the title Cabinet gave a folder is translated; another one (a folder
    renamed in the database) is shown as it is."""
    from sqlalchemy import update
    from cabinet.models import Node
    with db() as request:
        request.dbsession.execute(update(Node).where(Node.path == "/cabinets/parc/patients/")
                                  .values(title="Nos patients"))
    login(testapp, "dr.martin")
    page = testapp.get("/cabinets/parc", headers={"Accept-Language": "de"})
    assert [a.get_text() for a in page.html.select("section.listing h2 a")] \
        == ["Nos patients", "Fragebogenvorlagen"]


@pytest.mark.parametrize("lang,last_name,name", [
    ("fr", "Nom", "Nom"), ("de", "Nachname", "Name"), ("en", "Last name", "Name")])
def test_a_last_name_is_not_a_name(testapp, demo, api, lang, last_name, name):
    """"Nom" is a person's last name on a form beside "Prénom", and a whole name in a
    table of people: two msgids by their context (pgettext in the templates, C_ in
    Python)."""
    page = testapp.get("/patient/login", headers={"Accept-Language": lang})
    assert page.html.select_one('label[for="f-last_name"]').get_text(" ", strip=True) \
        .startswith(last_name)
    martin = api("dr.martin")
    martin.headers["Accept-Language"] = lang
    columns = martin.get("/cabinets/parc/@work-queues/patients").json["columns"]
    assert {"id": "last_name", "title": last_name}.items() <= next(
        c for c in columns if c["id"] == "last_name").items()
    login(testapp, "admin")
    page = testapp.get("/@@certificates", headers={"Accept-Language": lang})
    assert name in [th.get_text() for th in page.html.select("th")]


@pytest.mark.parametrize("lang,cancel,by", [
    ("fr", "Annuler", "Par"), ("de", "Absagen", "Per"), ("en", "Cancel", "By")])
def test_one_french_word_two_german_ones(lea_page, lang, cancel, by):
    """"Annuler" an appointment is "absagen", a form "abbrechen"; "Par" a channel
    (per SMS) is not "Par" an author (von)."""
    headers = {"Accept-Language": lang}
    page = lea_page.get("/@@my-notifications", headers=headers)
    assert page.html.select_one('label[for="f-channel"]').get_text(" ", strip=True) \
        .startswith(by)
    lea_page.reset()
    login(lea_page, "dr.martin")
    page = lea_page.get("/cabinets/parc/patients/leroy/appointments", headers=headers)
    links = [a.get_text() for a in page.html.select('a[href$="@@cancel"]')]
    assert links and set(links) == {cancel}
