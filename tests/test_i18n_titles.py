"""Titles kept in Python dicts, on the pages in the reader's language: the questions'
types of a questionnaire template, the cabinet's modules and their options, the
acting-for line of a signature's evidence, the fields of "My information" (and the
problems named after them). JSON answers keep the French texts.

The German and English texts asserted here are those of the catalogs
(cabinet/locale): French comes out whatever the catalogs hold (the msgids are the
French texts)."""
import pytest
from sqlalchemy import select

from cabinet.models import Node, Signature
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
RADIO = f"{LEROY}/documents/radio"
FOLDER = f"{PARC}/questionnaire-templates"
MEDICAL = f"{FOLDER}/questionnaire-medical"
LANGS = ("fr", "de", "en")


def get(testapp, url, lang, **kw):
    return testapp.get(url, headers={"Accept-Language": lang}, **kw)


def text_of(tag):
    return " ".join(tag.get_text(" ").split())


def label(page, field):
    return text_of(page.html.select_one(f'label[for="f-{field}"]'))


def error(page, field):
    return text_of(page.html.select_one(f"#e-{field}"))


def form_to(page, action):
    return next(f for f in page.forms.values() if f.action.endswith(action))


# -- the questions' types of a questionnaire template ------------------------------------

QUESTION_TYPES = {
    "fr": ["Texte court", "Texte long", "Nombre", "Date", "Oui / non", "Choix unique",
           "Choix multiple", "Échelle de 0 à 10"],
    "de": ["Kurzer Text", "Langer Text", "Zahl", "Datum", "Ja / Nein", "Einfachauswahl",
           "Mehrfachauswahl", "Skala von 0 bis 10"],
    "en": ["Short text", "Long text", "Number", "Date", "Yes / no", "Single choice",
           "Multiple choice", "Scale from 0 to 10"],
}
TYPE_KEYS = ["short_text", "long_text", "number", "date", "yes_no", "single_choice",
             "multiple_choice", "scale"]


@pytest.mark.parametrize("lang", LANGS)
def test_question_types_on_the_template_page(demo, testapp, lang):
    login(testapp, "dr.martin")
    page = get(testapp, MEDICAL, lang)
    titles = dict(zip(TYPE_KEYS, QUESTION_TYPES[lang]))
    shown = {li["data-question"]: text_of(li.select_one("span.type"))
             for li in page.html.select("li.question")}
    assert shown["medicaments"] == f"({titles['yes_no']})"
    assert shown["lesquels"] == f"({titles['long_text']})"
    assert shown["allergies"] == f"({titles['multiple_choice']})"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", [f"{FOLDER}/@@add", f"{MEDICAL}/@@edit"])
def test_question_types_in_the_forms_select(demo, testapp, lang, path):
    login(testapp, "dr.martin")
    page = get(testapp, path, lang)
    options = page.html.select_one('select[id="f-q-0-type"]').select("option")
    assert [o["value"] for o in options] == TYPE_KEYS
    assert [text_of(o) for o in options] == QUESTION_TYPES[lang]
    # a form sent back with an error keeps the titles in the reader's language
    form = form_to(page, path.rsplit("/", 1)[1])
    form["title"] = ""
    again = form.submit("action", value="save", status=422,
                        headers={"Accept-Language": lang})
    options = again.html.select_one('select[id="f-q-0-type"]').select("option")
    assert [text_of(o) for o in options] == QUESTION_TYPES[lang]


# -- the cabinet's modules ----------------------------------------------------------------

MODULES = {
    "fr": {"payments.enabled": "Paiements", "messaging.enabled": "Messagerie",
           "payments.online_payment": "Paiement en ligne",
           "payments.only_due_installments": "Seulement les échéances dues",
           "documents.minors_access": "Accès des représentants aux dossiers des mineurs"},
    "de": {"payments.enabled": "Zahlungen", "messaging.enabled": "Nachrichten",
           "payments.online_payment": "Online-Zahlung",
           "payments.only_due_installments": "Nur fällige Raten",
           "documents.minors_access": "Zugriff der gesetzlichen Vertreter auf die Akten Minderjähriger"},
    "en": {"payments.enabled": "Payments", "messaging.enabled": "Messages",
           "payments.online_payment": "Online payment",
           "payments.only_due_installments": "Only instalments due",
           "documents.minors_access": "Legal representatives' access to minors' records"},
}
ADDRESS_TOO_LONG = {"fr": "Adresse : texte de 500 caractères au plus.",
                    "de": "Adresse: höchstens 500 Zeichen.",
                    "en": "Address: at most 500 characters."}


@pytest.mark.parametrize("lang", LANGS)
def test_module_titles_on_the_settings_page(demo, testapp, api, lang):
    login(testapp, "admin")
    page = get(testapp, f"{PARC}/@@settings", lang)
    for field, title in MODULES[lang].items():
        assert label(page, field) == title
    # a problem named after its field, on the page in the reader's language ...
    form = form_to(page, "/@@settings")
    form["address"] = "x" * 501
    refused = form.submit(status=422, headers={"Accept-Language": lang})
    assert error(refused, "address") == ADDRESS_TOO_LONG[lang]
    # ... and in French in JSON
    answer = api("admin").patch(f"{PARC}/@settings", {"contact": {"address": "x" * 501}},
                                status=422).json
    assert answer["errors"] == {"contact.address": ADDRESS_TOO_LONG["fr"]}


# -- the acting-for line of a signature's evidence ----------------------------------------

ACTING_FOR = {
    "fr": ["Le signataire a signé pour lui-même.",
           "Représentant légal (parent 1) de Hugo Leroy",
           "Représentant légal (garant financier) de Hugo Leroy",
           "Représentant légal de Hugo Leroy",
           "Secrétaire agissant pour Dr Paul Martin"],
    "de": ["Der Unterzeichner hat für sich selbst unterschrieben.",
           "Gesetzlicher Vertreter (Elternteil 1) von Hugo Leroy",
           "Gesetzlicher Vertreter (Rechnungsempfänger) von Hugo Leroy",
           "Gesetzlicher Vertreter von Hugo Leroy",
           "Sekretariat im Auftrag von Dr Paul Martin"],
    "en": ["The signer signed on their own behalf.",
           "Legal representative (parent 1) of Hugo Leroy",
           "Legal representative (financial guarantor) of Hugo Leroy",
           "Legal representative of Hugo Leroy",
           "Secretary acting for Dr Paul Martin"],
}
#: as cabinet.signatures.acting_for_of describes a guardian and a secretary
ACTING = [None,
          {"type": "guardian", "relation": "parent1", "patient": "Hugo Leroy"},
          {"type": "guardian", "relation": "guarantor", "patient": "Hugo Leroy"},
          {"type": "guardian", "patient": "Hugo Leroy"},
          {"type": "delegation", "professional": "Dr Paul Martin",
           "professional_path": "/professionals/martin/"}]


def set_acting_for(db, path, acting):
    with db() as request:
        node = request.dbsession.scalar(select(Node).where(Node.path == path + "/"))
        request.dbsession.scalar(select(Signature).where(
            Signature.document_id == node.id)).acting_for = acting


@pytest.mark.parametrize("lang", LANGS)
def test_acting_for_on_the_evidence_page_json_unchanged(demo, testapp, api, db, lang):
    login(testapp, "dr.martin")
    for acting, expected in zip(ACTING, ACTING_FOR[lang]):
        set_acting_for(db, RADIO, acting)
        page = get(testapp, f"{RADIO}/@@signature", lang)
        assert text_of(page.html.select_one('dd[data-field="acting_for"]')) == expected
        # JSON says who, not a sentence
        answer = api("dr.martin").get(f"{RADIO}/@signature").json["acting_for"]
        assert answer == (None if acting is None else {
            k.replace("_path", "_url"): (f"http://localhost{v}".rstrip("/")
                                         if k.endswith("_path") else v)
            for k, v in acting.items()})


def test_acting_for_text_without_a_request_is_french():
    from cabinet.views.signatures import acting_for_text
    assert [acting_for_text(a) for a in ACTING] == ACTING_FOR["fr"]


# -- My information ------------------------------------------------------------------------

OWN_TITLES = {"fr": ("Prénom", "Téléphone", "Courriel"),
              "de": ("Vorname", "Telefon", "E-Mail"),
              "en": ("First name", "Phone", "Email")}
GUARDIAN_TITLES = {"fr": ("Prénom (parent 1)", "Téléphone (parent 1)"),
                   "de": ("Vorname (Elternteil 1)", "Telefon (Elternteil 1)"),
                   "en": ("First name (parent 1)", "Phone (parent 1)")}
REQUIRED = {"fr": "Prénom : obligatoire.", "de": "Vorname: Pflichtfeld.",
            "en": "First name: required."}
GUARDIAN_REQUIRED = {"fr": "Prénom (parent 1) : obligatoire.",
                     "de": "Vorname (Elternteil 1): Pflichtfeld.",
                     "en": "First name (parent 1): required."}


def section(page, record):
    return page.html.select_one(f'section.my-information[data-record="http://localhost'
                                f'{record}"]')


@pytest.mark.parametrize("lang", LANGS)
def test_my_information_field_titles_in_the_reader_s_language_json_in_french(
        lea_page, lea_api, lang):
    page = get(lea_page, "/@@my-information", lang)
    own, hugo = section(page, LEROY), section(page, HUGO)
    first_name, phone, email = OWN_TITLES[lang]
    assert text_of(own.select_one('label[for="f-leroy-first_name"]')) == first_name
    assert text_of(own.select_one('label[for="f-leroy-email"]')) == email
    assert text_of(hugo.select_one('label[for="f-hugo-leroy-phone"]')) == phone
    parent_first_name, parent_phone = GUARDIAN_TITLES[lang]
    assert text_of(hugo.select_one('label[for="f-hugo-leroy-parent1_first_name"]')) == \
        parent_first_name
    assert text_of(hugo.select_one('label[for="f-hugo-leroy-parent1_phone"]')) == parent_phone
    # JSON keeps the French titles
    lea_api.headers["Accept-Language"] = lang
    items = lea_api.get("/@my-information").json["items"]
    assert items[1]["titles"]["parent1_phone"] == "Téléphone (parent 1)"
    assert items[0]["titles"]["first_name"] == "Prénom"


@pytest.mark.parametrize("lang", LANGS)
def test_a_pending_proposal_s_titles_on_both_pages(lea_page, lea_api, testapp, lang):
    lea_api.post(f"{HUGO}/@my-information",
                 {"values": {"parent1_phone": "+352 621 999 888"}}, status=201)
    parent_phone = GUARDIAN_TITLES[lang][1]
    page = get(lea_page, "/@@my-information", lang)
    assert text_of(section(page, HUGO).select_one("p.pending")).endswith(
        f"{parent_phone} → +352621999888")
    # the cabinet's side
    testapp.reset()
    login(testapp, "dr.martin")
    page = get(testapp, f"{HUGO}/@@information-proposals", lang)
    assert text_of(page.html.select_one("form.proposal tbody td")) == parent_phone
    proposals = testapp.get(f"{HUGO}/@information-proposals",
                            headers={"Accept": "application/json",
                                     "Accept-Language": lang}).json
    assert proposals["items"][0]["titles"] == {"parent1_phone": "Téléphone (parent 1)"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("record,field,messages", [
    (LEROY, "first_name", REQUIRED),
    # a guardian's own field: its title ("Prénom (parent 1)") is a msgid with msgids
    # among its values, inside the problem's msgid
    (HUGO, "parent1_first_name", GUARDIAN_REQUIRED)])
def test_a_field_problem_in_the_reader_s_language_json_in_french(
        lea_page, lea_api, lang, record, field, messages):
    page = get(lea_page, "/@@my-information", lang)
    form = form_to(page, f"{record}/@@my-information")
    form[field] = ""
    refused = form.submit(status=422, headers={"Accept-Language": lang})
    # each record's form has its own ids
    assert error(refused, record.rsplit("/", 1)[-1] + "-" + field) == messages[lang]
    answer = lea_api.post(f"{record}/@my-information", {"values": {field: ""}},
                          status=422).json
    assert answer["errors"] == {field: messages["fr"]}


@pytest.mark.parametrize("lang,relation", [
    ("fr", "(vous êtes parent 1)"), ("de", "(Sie sind Elternteil 1)"),
    ("en", "(you are parent 1)")])
def test_my_patients_relation_in_the_reader_s_language_json_in_french(
        lea_page, lea_api, lang, relation):
    page = get(lea_page, "/@@my-patients", lang)
    assert relation in [text_of(span) for span in page.html.select("span.relation")]
    lea_api.headers["Accept-Language"] = lang
    items = lea_api.get("/@my-patients").json["items"]
    assert {item["relation_title"] for item in items} == {"patient", "parent 1"}
