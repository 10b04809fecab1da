"""Real-browser journeys: Playwright for Python driving Debian's chromium (never a
downloaded browser) against a real waitress server on a free loopback port, with a
fresh database holding the demo data and a real SMTP server receiving the mail.

Each journey ends with a screenshot of its last page in ``var/screenshots/`` at
desktop (1280x800) and phone (390x844) sizes."""
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.live import serving
from tests.smtp import mail_settings, smtp_server  # noqa: F401

CHROMIUM = os.environ.get("CABINET_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"chromium is missing at {CHROMIUM}: install Debian's package "
                    "(apt-get install -y chromium) or set CABINET_CHROMIUM")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's axe.min.js, fetched once from the npm registry into var/axe/."""
    from tests.browser.axe import axe_script
    return axe_script()


@pytest.fixture
def settings(settings, mail_settings):  # noqa: F811
    return {**settings, **mail_settings}


@pytest.fixture
def live_server(demo):
    """The demo application served by waitress: its base URL."""
    with serving(demo) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture
def person(browser, live_server):
    """``person()``: a new browser window (its own cookies), at desktop size."""
    contexts = []

    def make():
        context = browser.new_context(viewport=DESKTOP, base_url=live_server,
                                      locale="fr-FR")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


def follow(locator):
    """Click a link or a button that loads a page, and wait for that page (a click
    returns once the navigation starts, before the new page is there to read)."""
    with locator.page.expect_navigation():
        locator.click()


def screenshot(page, name):
    """The page as shown on a desktop and on a phone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def log_in(page, login, password="demo"):
    page.goto("/login")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def ask_for_a_login_code(page, phone="+352 621 123 456"):
    """The patient login's first step, as Léa Leroy (the demo's patient) types it:
    phone, names, birth date, then the button that sends the code."""
    page.get_by_label("Téléphone portable").fill(phone)
    page.get_by_label(re.compile(r"^Nom\b")).fill("Leroy")
    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label("Date de naissance").fill("1990-04-12")
    page.get_by_role("button", name="Recevoir un code par SMS").click()
