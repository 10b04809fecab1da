"""The portal's main pages fit a 390 px wide phone (issue #9: the portal is used on
phones first): the page does not scroll sideways (the document is no wider than the
window) and no box inside it has to be scrolled sideways either, for Léa Leroy with
the demo data, and with words longer than a phone's line: a link pasted in a
message, an attachment's file name, an e-mail address proposed in "my information",
and the cabinet's own long values (its e-mail address, a care item's label, the
account's name)."""
import pytest
from sqlalchemy import select

from cabinet.models import Cabinet, CareItem, User
from tests.browser.conftest import PHONE, log_in
from tests.browser.test_accessibility import fits_a_phone

LEROY = "/cabinets/parc/patients/leroy"
PAGES = {
    "home": "/",
    "appointments": "/@@my-appointments",
    "appointments, all": "/@@my-appointments?when=all",
    "payments": "/@@my-payments",
    "messages": "/@@my-messages",
    "imaging": f"{LEROY}/@@my-imaging",
    "imaging viewer": f"{LEROY}/@@my-imaging/panoramique-debut",
    "my information": "/@@my-information",
    "my cabinet": "/@@my-cabinet",
    "notifications": "/@@my-notifications",
    "manage patients": "/@@manage-patients",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_fits_a_phone(person, name):
    page = person()
    log_in(page, "p.leroy")
    page.set_viewport_size(PHONE)
    response = page.goto(PAGES[name])
    assert response.status == 200, (name, response.status)
    assert page.locator("main h1").count() >= 1
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide"
    assert fits_a_phone(page) == (True, [])


LONG_LINK = "https://www.example.org/" + "radiographie-panoramique-" * 6 + "resultat.pdf"
LONG_FILE = "photo-de-ma-gencive-apres-le-detartrage-du-mois-dernier-vue-de-face.png"
LONG_EMAIL = "lea.leroy.adresse.professionnelle.tres.longue@cabinet-dentaire-du-parc.example.org"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_long_words_wrap_on_a_phone(person):
    """What a patient types can be long without a space: a pasted link, a file's
    name, an e-mail address. The pages wrap it instead of growing sideways."""
    page = person()
    log_in(page, "p.leroy")
    page.set_viewport_size(PHONE)
    page.goto("/@@my-messages")
    page.get_by_label("Votre message").fill(f"Voici le lien : {LONG_LINK}")
    page.get_by_label("Pièce jointe (facultative)").set_input_files(
        {"name": LONG_FILE, "mimeType": "image/png", "buffer": PNG})
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer").click()
    thread = page.locator("ol.thread li").last
    assert LONG_LINK in thread.locator(".text").inner_text()
    assert thread.locator(".attachment a").inner_text() == LONG_FILE
    assert fits_a_phone(page) == (True, [])

    page.goto("/@@my-information")
    mine = page.locator("section.my-information").first
    mine.get_by_label("Courriel", exact=True).fill(LONG_EMAIL)
    with page.expect_navigation():
        mine.get_by_role("button", name="Proposer ces modifications").click()
    assert LONG_EMAIL in page.locator("section.my-information .pending").first.inner_text()
    assert fits_a_phone(page) == (True, [])


LONG_TITLE = ("Couronne céramo-métallique sur implant avec pilier personnalisé "
              "(dent 36), empreinte numérique et essayage")


@pytest.fixture
def long_words(demo, db):
    """Long values entered by the cabinet: its e-mail address, a care item's label,
    Léa's account (name and e-mail address, shown on top of every page)."""
    with db() as request:
        session = request.dbsession
        cabinet = session.scalar(select(Cabinet).where(Cabinet.path == "/cabinets/parc/"))
        cabinet.email = LONG_EMAIL
        item = session.scalars(select(CareItem).where(
            CareItem.path.startswith(LEROY + "/")).order_by(CareItem.id)).first()
        item.title = LONG_TITLE
        user = session.scalar(select(User).where(User.login == "p.leroy"))
        user.email = LONG_EMAIL
        user.fullname = "Léa-Marie-Charlotte Leroy-Delacroix-Dupont-Montmorency"
    return demo


@pytest.mark.parametrize("name", ["home", "payments", "my cabinet", "notifications",
                                  "appointments"])
def test_long_values_of_the_cabinet_wrap_on_a_phone(long_words, person, name):
    page = person()
    log_in(page, "p.leroy")
    page.set_viewport_size(PHONE)
    page.goto(PAGES[name])
    text = page.locator("body").inner_text()
    shown = {"payments": LONG_TITLE, "my cabinet": LONG_EMAIL, "notifications": LONG_EMAIL}
    assert shown.get(name, "Montmorency") in text
    assert fits_a_phone(page) == (True, [])
