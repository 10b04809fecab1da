"""Issue #10 (A4), the texts written in Python: flash messages, mails, SMS, form
errors and the messages of error pages, in French (default), German and English,
through cabinet.i18n's one mechanism; a questionnaire response and the patient login
keep the language they were started in.

The German and English texts asserted here are those of the catalogs
(cabinet/locale): French comes out whatever the catalogs hold (the msgids are the
French texts)."""
import re
from datetime import datetime

import pytest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import QuestionnaireResponse, User
from tests.conftest import LEA, last_form, login, patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
ANAMNESE = f"{LEROY}/questionnaires/anamnese"      # the demo's: sent, to fill
LANGS = ("fr", "de", "en")


def set_language(db, login_name, lang):
    with db() as request:
        request.dbsession.scalar(select(User).where(User.login == login_name)).language = lang


def sms_outbox(registry):
    return registry.getUtility(ISmsGateway).outbox


def mail_outbox(registry):
    return registry.getUtility(IMailer).outbox


def texts_of(response):
    return " ".join(response.html.get_text(" ").split())


def flashes(page):
    return [p.get_text(" ", strip=True) for p in page.html.select("p.flash")]


def csrf(page):
    return page.html.find("input", {"name": "csrf_token"})["value"]


# -- the mechanism itself ----------------------------------------------------------------

def test_translate_fills_placeholders_and_translates_msgid_values(app, db):
    from cabinet.i18n import _, language_of, translate
    with db() as request:
        assert translate(request, "« ${title} » ajouté.", "fr", title="Bilan") == \
            "« Bilan » ajouté."
        assert translate(request, _("« ${title} » ajouté.", mapping={"title": "Bilan"}),
                         "de") == "„Bilan“ hinzugefügt."
        assert translate(request, "Questionnaire « ${title} » envoyé à ${patient} "
                         "(${state}).", "en", title="Q", patient="P",
                         state=_("Oui")) == 'Questionnaire “Q” sent to P (Yes).'
        # a text no catalog knows comes out as it is
        assert translate(request, "Texte libre ${x}", "de", x=1) == "Texte libre 1"
        # the recipient's language: their profile's, else the request's, else French
        german = User(login="x", language="de")
        assert language_of(request, german) == "de"
        assert language_of(request, User(login="y")) == "fr"
        assert language_of(request) == "fr"


# -- flash messages ----------------------------------------------------------------------

REMINDERS_ON = {"fr": "Rappels activés.", "de": "Erinnerungen aktiviert.",
                "en": "Reminders on."}
REMINDERS_OFF = {"fr": "Vous ne recevrez plus de rappels de rendez-vous.",
                 "de": "Sie erhalten keine Terminerinnerungen mehr.",
                 "en": "You will no longer receive appointment reminders."}
RULE_ADDED = {"fr": "Rappel ajouté.", "de": "Erinnerung hinzugefügt.",
              "en": "Reminder added."}


@pytest.fixture
def lea(demo, testapp, registry):
    """Léa (with her directory account), signed in on the pages."""
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    return testapp


@pytest.mark.parametrize("lang", LANGS)
def test_flash_messages_in_the_language_of_the_reader(lea, db, lang):
    set_language(db, "p.leroy", lang)
    page = lea.get("/@@my-notifications")
    assert page.html.find("html")["lang"] == lang
    form = page.html.select_one("section.add-reminder form")
    lea.post(form["action"], {"csrf_token": csrf(page), "action": "off"}, status=303)
    page = lea.get("/@@my-notifications")
    assert flashes(page) == [REMINDERS_OFF[lang]]
    lea.post(form["action"], {"csrf_token": csrf(page), "action": "on"}, status=303)
    assert flashes(lea.get("/@@my-notifications")) == [REMINDERS_ON[lang]]
    lea.post(form["action"], {"csrf_token": csrf(page), "action": "add",
                              "days_before": "2", "time": "18:30", "channel": "email"},
             status=303)
    assert flashes(lea.get("/@@my-notifications")) == [RULE_ADDED[lang]]


CANCELLED = {"fr": "Rendez-vous annulé : ", "de": "Termin abgesagt: ",
             "en": "Appointment cancelled: "}


@pytest.mark.parametrize("lang", LANGS)
def test_a_flash_message_with_a_title_in_each_language(demo, testapp, db, lang):
    """A message with a placeholder: the title is the feature's, the rest translated."""
    from cabinet.models import Appointment
    path = LEROY + "/appointments/consultation-a-venir"
    with db() as request:
        title = request.dbsession.scalar(select(Appointment.title).where(
            Appointment.path == path + "/"))
    set_language(db, "dr.martin", lang)
    login(testapp, "dr.martin")
    form = last_form(testapp.get(path + "/@@cancel"))
    form["reason"] = "Patient malade"
    page = form.submit(status=303).follow()
    assert flashes(page) == [CANCELLED[lang] + title + "."]


# -- mails -------------------------------------------------------------------------------

NEW_MESSAGE = {
    "fr": ("Nouveau message de Cabinet dentaire du Parc",
           "Cabinet dentaire du Parc vous a écrit dans votre messagerie."),
    "de": ("Neue Nachricht von Cabinet dentaire du Parc",
           "Cabinet dentaire du Parc hat Ihnen in Ihrem Postfach geschrieben."),
    "en": ("New message from Cabinet dentaire du Parc",
           "Cabinet dentaire du Parc has sent you a message."),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_new_message_mail_in_the_patient_s_language(demo, api, registry, db, lang):
    """The cabinet answers (in French): the patient's mail is in her language."""
    lea = api("p.leroy")
    set_language(db, "p.leroy", lang)
    martin = api("dr.martin")
    martin.post(LEROY + "/@messages", {"text": "Réponse"}, status=201)
    mail = mail_outbox(registry)[-1]
    subject, body = NEW_MESSAGE[lang]
    assert mail.subject == subject
    assert body in mail.body
    assert "/@@my-messages" in mail.body
    # the mail to the cabinet stays in the practice's language, French
    lea.post(LEROY + "/@messages", {"text": "Une question"}, status=201)
    assert mail_outbox(registry)[-1].subject == "Nouveau message d'un patient"


RECEIPT = {
    "fr": ("reçu de votre paiement", "Nous avons bien reçu votre paiement en ligne de "
           "40,00 € pour", "Reste dû : 250,00 €"),
    "de": ("Quittung für Ihre Zahlung", "Wir haben Ihre Online-Zahlung von 40,00 € für",
           "Noch offen: 250,00 €"),
    "en": ("receipt for your payment", "We have received your online payment of €40.00 "
           "for", "Still due: €250.00"),
}
PAID_FLASH = {"fr": "Paiement de 40,00 € accepté.", "de": "Zahlung von 40,00 € angenommen.",
              "en": "Payment of €40.00 accepted."}


@pytest.mark.parametrize("lang", LANGS)
def test_the_payment_receipt_and_its_flash_in_the_payer_s_language(lea, registry, db,
                                                                     lang):
    set_language(db, "p.leroy", lang)
    page = lea.get("/@@my-payments")
    form = next(f for f in page.forms.values() if f.action.endswith("/leroy/@@pay"))
    form["amount"] = "40,00"
    provider = lea.get(form.submit(status=303).location)
    done = last_form(provider).submit("decision", value="approve").follow()
    assert PAID_FLASH[lang] in " ".join(flashes(done))
    [mail] = mail_outbox(registry)
    subject, paid, left = RECEIPT[lang]
    assert subject in mail.subject
    assert paid in mail.body and left in mail.body


# -- SMS ---------------------------------------------------------------------------------

LOGIN_SMS = {"fr": "Votre code de connexion Cabinet : ",
             "de": "Ihr Cabinet-Anmeldecode: ",
             "en": "Your Cabinet login code: "}


@pytest.mark.parametrize("lang", LANGS)
def test_the_login_code_sms_in_the_language_of_the_request(demo, testapp, registry, lang):
    testapp.post_json("/@patient-login", LEA, headers={"Accept-Language": lang})
    text = sms_outbox(registry)[-1]["text"]
    assert text.startswith(LOGIN_SMS[lang])
    assert re.search(r"\b\d{6}\b", text)
    assert "Leroy" not in text               # nothing of the person, as before


SIGN_SMS = {"fr": "Votre code de signature Cabinet : ", "de": "Ihr Cabinet-Signaturcode: ",
            "en": "Your Cabinet signing code: "}


@pytest.mark.parametrize("lang", LANGS)
def test_the_signing_code_sms_in_the_signer_s_profile_language(demo, api, registry, db,
                                                                 lang):
    set_language(db, "p.leroy", lang)
    lea = api("p.leroy")
    # the browser says French: the profile wins for a known user
    lea.headers["Accept-Language"] = "fr"
    lea.post(f"{LEROY}/documents/consentement/@sign-code", status=200)
    assert sms_outbox(registry)[-1]["text"].startswith(SIGN_SMS[lang])


def test_the_reminder_in_the_person_s_language(app, db):
    from cabinet.reminders import reminder_text
    start = datetime(2026, 3, 16, 9, 0)
    with db() as request:
        assert reminder_text(request, "fr", "Parc", start, "Dr Martin") == (
            "Parc : rappel de votre rendez-vous le lundi 16/03/2026 à 09:00 avec "
            "Dr Martin. En cas d'empêchement, merci de prévenir le cabinet.")
        german = reminder_text(request, "de", "Parc", start, "")
        assert german.startswith("Parc: Erinnerung an Ihren Termin am Montag, "
                                 "16.03.2026 um 09:00.")
        english = reminder_text(request, "en", "Parc", start, "Dr Martin")
        assert "on Monday" in english and "with Dr Martin" in english


# -- form errors -------------------------------------------------------------------------

FORM_ERRORS = {
    "fr": ("La valeur doit être au plus 100.", "Cette question est obligatoire.",
           "Il y a eu un problème avec votre requête", "Enregistrer le brouillon"),
    "de": ("Der Wert darf höchstens 100 betragen.", "Diese Frage muss beantwortet werden.",
           "Es gab ein Problem mit Ihren Angaben", "Entwurf speichern"),
    "en": ("The value must be at most 100.", "This question is required.",
           "There was a problem with your submission", "Save draft"),
}


def fill_form(page):
    return page.forms["questionnaire"]


@pytest.mark.parametrize("lang", LANGS)
def test_questionnaire_form_errors_in_each_language(demo, testapp, db, lang):
    """The form's labels, colander's and deform's messages and the cabinet's own."""
    set_language(db, "p.leroy", lang)
    login(testapp, "p.leroy")
    form = fill_form(testapp.get(ANAMNESE))
    form["cigarettes"] = "200"
    form["q-medicaments"] = "true"
    result = form.submit("transition", status=422)
    errors = {p["id"]: p.get_text(strip=True) for p in result.html.select(".invalid-feedback")}
    too_big, required, deform_problem, save = FORM_ERRORS[lang]
    assert errors["error-q-cigarettes"] == too_big
    assert errors["error-q-lesquels"] == required
    assert deform_problem in result.text
    assert save in texts_of(result)


PATIENT_LOGIN_ERRORS = {"fr": "Saisissez votre nom.", "de": "Geben Sie Ihren Nachnamen ein.",
                        "en": "Enter your last name."}


@pytest.mark.parametrize("lang", LANGS)
def test_patient_login_form_errors_in_each_language(demo, testapp, lang):
    page = testapp.get("/patient/login", headers={"Accept-Language": lang})
    form = last_form(page)
    form["phone"] = LEA["phone"]
    form["first_name"] = "Léa"
    form["birth_date"] = LEA["birth_date"]
    result = form.submit(status=422, headers={"Accept-Language": lang})
    assert result.html.select_one("#e-last_name").get_text(strip=True) == \
        PATIENT_LOGIN_ERRORS[lang]


# -- error pages -------------------------------------------------------------------------

NOT_OFFERED = {"fr": "Ce service n'est pas proposé par votre cabinet.",
               "de": "Dieser Dienst wird von Ihrer Praxis nicht angeboten.",
               "en": "This service is not offered by your practice."}


@pytest.mark.parametrize("lang", LANGS)
def test_a_feature_s_refusal_on_the_page_in_the_reader_s_language_json_in_french(
        lea, api, db, lang):
    api("admin").patch(f"{PARC}/@settings", {"modules": {"documents": {"enabled": False}}})
    set_language(db, "p.leroy", lang)
    refused = lea.get(f"{LEROY}/documents", status=404)
    assert NOT_OFFERED[lang] in texts_of(refused)
    # JSON keeps the French text; its type is the field for programs
    answer = api("p.leroy").get(f"{LEROY}/@patient-documents", status=404).json
    assert answer["type"] == "NotFound"
    assert answer["message"] == NOT_OFFERED["fr"]


# -- a procedure keeps the language it was started in ------------------------------------

def choose(page, lang):
    """Press a language button of the signed-in switcher (kept in the profile)."""
    form = next(f for f in page.forms.values() if f.action.endswith("/@@language"))
    response = form.submit("lang", value=lang)
    assert response.status_int == 303
    return response.follow()


def started_language(db, path):
    with db() as request:
        return request.dbsession.scalar(select(QuestionnaireResponse.language).where(
            QuestionnaireResponse.path == path + "/"))


def test_a_questionnaire_keeps_the_language_it_was_started_in(demo, testapp, db):
    set_language(db, "p.leroy", "de")
    login(testapp, "p.leroy")
    page = testapp.get(ANAMNESE)
    assert page.html.find("html")["lang"] == "de"
    assert started_language(db, ANAMNESE) is None          # opening it writes nothing
    form = fill_form(page)
    form["q-medicaments"] = "true"
    saved = form.submit("save", status=303).follow()
    assert flashes(saved) == ["Entwurf gespeichert: Sie können ihn später vervollständigen."]
    assert started_language(db, ANAMNESE) == "de"
    # Léa switches to English: her other pages are in English ...
    home = choose(testapp.get("/"), "en")
    assert home.html.find("html")["lang"] == "en"
    # ... the questionnaire she started stays in German, its errors too
    page = testapp.get(ANAMNESE)
    assert page.html.find("html")["lang"] == "de"
    assert "Entwurf speichern" in texts_of(page) and "Save draft" not in texts_of(page)
    form = fill_form(page)
    form["cigarettes"] = "200"
    result = form.submit("transition", status=422)
    assert "Der Wert darf höchstens 100 betragen." in texts_of(result)
    assert result.html.find("html")["lang"] == "de"
    form = fill_form(result)
    form["cigarettes"] = "5"
    form["lesquels"] = "Aspirin"
    done = form.submit("transition", status=303).follow()
    assert "wurde an die Praxis gesendet" in " ".join(flashes(done))
    assert started_language(db, ANAMNESE) == "de"


def test_the_cabinet_reads_a_response_in_its_own_language(demo, testapp, db):
    """Only those who fill it are held to the response's language."""
    with db() as request:
        request.dbsession.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.path == ANAMNESE + "/")).language = "de"
    login(testapp, "dr.martin")
    page = testapp.get(ANAMNESE, headers={"Accept-Language": "en"})
    assert page.html.find("html")["lang"] == "en"


def test_a_questionnaire_started_in_the_api_keeps_its_language(demo, api, db):
    lea = api("p.leroy")
    lea.headers["Accept-Language"] = "en"
    lea.get(ANAMNESE, status=200)
    assert started_language(db, ANAMNESE) is None
    lea.patch(ANAMNESE, {"answers": {"medicaments": False}}, status=200)
    assert started_language(db, ANAMNESE) == "en"
    lea.headers["Accept-Language"] = "de"          # a later save changes nothing
    lea.patch(ANAMNESE, {"answers": {"medicaments": True}}, status=200)
    assert started_language(db, ANAMNESE) == "en"


def test_the_patient_login_keeps_the_language_it_was_started_in(demo, testapp, registry,
                                                                 clock):
    page = testapp.get("/patient/login", headers={"Accept-Language": "de"})
    form = last_form(page)
    for key in ("phone", "last_name", "first_name", "birth_date"):
        form[key] = LEA[key]
    form.submit(status=303, headers={"Accept-Language": "de"})
    assert sms_outbox(registry)[-1]["text"].startswith(LOGIN_SMS["de"])
    # the visitor chooses English with the switcher (a cookie) between the two steps
    testapp.get("/@@language?lang=en&came_from=/patient/code", status=303)
    code_page = testapp.get("/patient/code", headers={"Accept-Language": "en"})
    assert code_page.html.find("html")["lang"] == "de"
    assert "Per SMS erhaltener Code" in texts_of(code_page)
    # a wrong code: the message in German
    form = next(f for f in code_page.forms.values() if "code" in f.fields)
    form["code"] = "000000"
    wrong = form.submit(status=422)
    assert "Falscher Code: Sie haben noch" in texts_of(wrong)
    # a new code: its SMS and the flash in German
    clock.advance(minutes=2)
    resend = next(f for f in code_page.forms.values()
                  if f.fields.get("action") and f["action"].value == "resend")
    again = resend.submit(status=303).follow()
    assert again.html.find("html")["lang"] == "de"
    assert any(text.startswith("Ein neuer Code wurde an") for text in flashes(again))
    assert sms_outbox(registry)[-1]["text"].startswith(LOGIN_SMS["de"])
    # a new login started now speaks English
    page = testapp.get("/patient/login")
    assert page.html.find("html")["lang"] == "en"


# -- the messages of the features' errors (cabinet.errors) --------------------------------

WORK_QUEUES = f"{PARC}/@@work-queues"
NOT_A_NUMBER = {"fr": "« b_start » doit être un nombre entier, pas « x ».",
                "de": "„b_start“ muss eine ganze Zahl sein, nicht „x“.",
                "en": "“b_start” must be a whole number, not “x”."}
NO_SUCH_LIST = {"fr": "Il n'y a pas de liste « nope » ; les listes : ",
                "de": "Es gibt keine Liste „nope“; die Listen: ",
                "en": "There is no list “nope”; the lists are: "}
PORTAL_ONLY = {"fr": "Le portail est réservé aux patients et à leurs représentants.",
               "de": "Das Portal ist Patienten und ihren Vertretern vorbehalten.",
               "en": "The portal is for patients and their legal representatives only."}


@pytest.mark.parametrize("lang", LANGS)
def test_a_feature_s_error_with_values_in_the_reader_s_language_json_in_french(
        demo, testapp, api, db, lang):
    """A message with values (a msgid with placeholders): next to the form on the page
    and on the error page, translated with its values; JSON keeps the French text with
    the same values."""
    set_language(db, "dr.martin", lang)
    login(testapp, "dr.martin")
    page = testapp.get(f"{WORK_QUEUES}/patients?b_start=x", status=400)
    shown = page.html.select_one('p.error[data-field="b_start"]').get_text(" ", strip=True)
    assert shown == NOT_A_NUMBER[lang]
    assert "${" not in page.text
    missing = testapp.get(f"{WORK_QUEUES}/nope", status=404)
    assert NO_SUCH_LIST[lang] in texts_of(missing)
    answer = api("dr.martin").get(f"{PARC}/@work-queues/patients?b_start=x", status=400).json
    assert answer["message"] == NOT_A_NUMBER["fr"]
    assert answer["field"] == "b_start"
    answer = api("dr.martin").get(f"{PARC}/@work-queues/nope", status=404).json
    assert answer["message"].startswith(NO_SUCH_LIST["fr"])


@pytest.mark.parametrize("lang", LANGS)
def test_a_feature_s_plain_refusal_in_the_reader_s_language_json_in_french(
        demo, testapp, api, db, lang):
    """A plain message marked N_(): the error page translates it, JSON keeps French."""
    set_language(db, "dr.martin", lang)
    login(testapp, "dr.martin")
    refused = testapp.get("/@@my-cabinet", status=403)
    assert PORTAL_ONLY[lang] in texts_of(refused)
    answer = api("dr.martin").get("/@my-cabinet", status=403).json
    assert answer["message"] == PORTAL_ONLY["fr"]



FUTURE_DAY = {
    "fr": "Le jour choisi est dans le futur : aucun paiement n'y a encore été fait.",
    "de": "Der gewählte Tag liegt in der Zukunft: An diesem Tag wurden noch keine Zahlungen geleistet.",
    "en": "The chosen day is in the future: no payment has been made on it yet."}


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_day_next_to_its_field_in_the_reader_s_language(demo, testapp, api, db,
                                                                  lang):
    """The payments of a day in the future: the page says why next to the field, in
    the reader's language; JSON keeps the French text and the field's own text."""
    set_language(db, "dr.martin", lang)
    login(testapp, "dr.martin")
    page = testapp.get(f"{WORK_QUEUES}/payments?day=2999-01-01", status=422)
    shown = page.html.select_one("#e-day").get_text(" ", strip=True)
    assert shown == FUTURE_DAY[lang]
    answer = api("dr.martin").get(f"{PARC}/@work-queues/payments?day=2999-01-01",
                                  status=422).json
    assert answer["message"] == FUTURE_DAY["fr"]
    assert answer["errors"]["day"] == "Choisissez aujourd'hui ou un jour passé."
