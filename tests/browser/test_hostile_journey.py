"""Journey 5 (issue #8): hostile pages and hostile text.

(a) While the patient is logged in, a page served from another loopback port (another
origin) submits forms to Cabinet's signing URLs: the signing transition, the request
for a signing code, and the JSON API with a text/plain body. Her browser sends her
cookie along (same host, so same site), and Cabinet refuses each: the refusal is
shown and the document is still waiting for her signature, no SMS sent.

(b) Markup typed by one person (a document's title and a workflow comment by staff, a
questionnaire answer by the patient) is shown to the other as text: the literal text
is on the page, no element comes out of it and no script runs."""
import json
import re
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cabinet.interfaces import ISmsGateway
from cabinet.sample_files import make_pdf
from tests.browser.conftest import log_in, screenshot

LEROY = "/cabinets/parc/patients/leroy"
DOCUMENT = f"{LEROY}/documents/consentement"       # sent, awaiting her signature
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"

#: every script-blocking event and every element the markup would have made
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
                          e => window.__csp.push(e.violatedDirective));
"""


def attack_page(action, fields, enctype="application/x-www-form-urlencoded"):
    inputs = "".join(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
                     for name, value in fields.items())
    return (f'<!DOCTYPE html><html><body><h1>Gagnez un cadeau !</h1>'
            f'<form id="f" method="post" action="{action}" enctype="{enctype}">{inputs}'
            f'</form><script>document.getElementById("f").submit()</script>'
            f'</body></html>').encode()


@pytest.fixture
def hostile_site(live_server):
    """A site on another loopback port: ``/<name>`` serves the page registered as
    ``pages[name]``; yields ``(base URL, pages)``."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.lstrip("/"))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_cross_site_form_cannot_sign_for_the_patient(person, live_server, hostile_site,
                                                        registry):
    base, pages = hostile_site
    assert base != live_server                     # another origin, the same host
    target = live_server + DOCUMENT
    pages["sign"] = attack_page(target + "/@@workflow",
                                {"transition": "sign", "code": "123456"})
    pages["code"] = attack_page(target + "/@@sign-code", {})
    pages["json"] = attack_page(target + "/@workflow/sign",
                                {'{"code": "123456", "x": "': '"}'}, enctype="text/plain")
    outbox = registry.getUtility(ISmsGateway).outbox

    patient = person()
    log_in(patient, "p.leroy")
    patient.goto(DOCUMENT)
    assert patient.locator(".badge").inner_text() == "Envoyé"

    for name in ("sign", "code", "json"):
        with patient.expect_request(lambda r: r.method == "POST") as sent, \
                patient.expect_navigation(url=re.compile(re.escape(target))) as arrival:
            patient.goto(f"{base}/{name}")       # the page submits itself at once
        request = sent.value
        assert request.url.startswith(target)
        assert request.header_value("origin") == base          # from the other site
        assert "cookie" in request.all_headers()                # with her cookie
        if name == "json":
            assert json.loads(request.post_data) == {"code": "123456", "x": "="}
        response = arrival.value
        assert response.status == 403, (name, response.status)
        assert patient.url.startswith(target)
        if name == "json":      # asked as the API, answered as the API
            assert '"CSRFError"' in patient.locator("body").inner_text()
        else:
            assert patient.locator("h1").inner_text() == "403 · Accès refusé", name
            assert "jeton de sécurité" in patient.get_by_role("alert").inner_text()
        # nothing changed: still hers to sign, no code sent
        patient.goto(DOCUMENT)
        assert patient.locator(".badge").inner_text() == "Envoyé", name
        assert patient.get_by_role("button", name="Recevoir un code par SMS").is_visible()
        assert outbox == [], name
    patient.goto(f"{base}/sign")
    patient.wait_for_url(re.compile(re.escape(target)))
    screenshot(patient, "journey5-cross-site-refused")


def shows_as_text(page, literal):
    """``literal`` is shown as text; no element was made of it, no script ran or was
    even blocked by the Content-Security-Policy."""
    assert literal in page.locator("main").inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("main script").count() == 0
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page.evaluate("() => window.__csp") == []


def test_markup_typed_by_one_person_is_text_for_the_other(person, tmp_path):
    title = f"{IMG} Devis"
    pdf = tmp_path / "devis.pdf"
    pdf.write_bytes(make_pdf("Devis", "Cabinet dentaire du Parc"))

    # staff: a document whose title holds markup, sent with a markup comment
    doctor = person()
    doctor.context.add_init_script(WATCH)
    log_in(doctor, "dr.martin")
    doctor.goto(f"{LEROY}/documents")
    doctor.get_by_label("Fichier").set_input_files(str(pdf))
    doctor.get_by_label("Titre").fill(title)
    doctor.get_by_label("Le patient doit le signer").check()
    doctor.get_by_role("button", name="Envoyer le fichier").click()
    shows_as_text(doctor, f"« {title} » ajouté.")
    doctor.get_by_role("link", name=title).click()
    doctor.get_by_label("Commentaire (facultatif)").fill(SCRIPT)
    doctor.get_by_role("button", name="Envoyer", exact=True).click()
    assert doctor.locator(".badge").inner_text() == "Envoyé"
    shows_as_text(doctor, title)
    assert SCRIPT in doctor.locator(".history").inner_text()    # the comment
    shows_as_text(doctor, SCRIPT)

    # the patient sees the title as text, and answers a questionnaire with markup
    patient = person()
    patient.context.add_init_script(WATCH)
    log_in(patient, "p.leroy")
    patient.goto(f"{LEROY}/documents")
    shows_as_text(patient, title)
    patient.get_by_role("link", name=title).click()
    assert patient.locator("h1").inner_text().startswith(title)
    shows_as_text(patient, title)

    patient.goto(f"{LEROY}/questionnaires/anamnese")
    patient.locator("#item-q-medicaments").get_by_label("Oui").check()
    answer = f"{SCRIPT}\n{IMG}"
    patient.get_by_label("Lesquels ?").fill(answer)
    patient.get_by_role("button", name="Envoyer", exact=True).click()
    assert "a été envoyé au cabinet" in patient.locator(".flash").inner_text()

    # staff read the answer as the patient typed it
    doctor.goto(f"{LEROY}/questionnaires/anamnese")
    answers = doctor.locator("dl.answers")
    assert SCRIPT in answers.inner_text() and IMG in answers.inner_text()
    shows_as_text(doctor, IMG)
    screenshot(doctor, "journey5-markup-as-text")
