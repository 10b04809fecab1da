"""Cabinet: a content and workflow server for medical and dental practices."""
import gc
import os

from pyramid.config import Configurator
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool

from cabinet.request import bake_request_extensions


def _settings_from_environment(settings):
    for variable, key in (("CABINET_DATABASE_URL", "sqlalchemy.url"),
                          ("CABINET_SESSION_SECRET", "cabinet.session_secret"),
                          ("CABINET_SIGNING_KEY_SECRET", "cabinet.signing_key_secret"),
                          ("CABINET_MAIL_PASSWORD", "mail.password"),
                          ("CABINET_REGISTRY_TOKEN", "cabinet.registry.token"),
                          ("CABINET_PAYMENTS_SECRET", "cabinet.payments.secret")):
        if os.environ.get(variable):
            settings[key] = os.environ[variable]
    return settings


def root_factory(request):
    from cabinet.resources import get_root
    return get_root(request)


def freeze_startup_objects():
    """Leave the objects built at start-up (the configuration, the mappers, the
    workflow definitions, ~250,000 of them) out of the cyclic garbage collector:
    they live as long as the process, yet every full collection walked them all, a
    pause of ~80 ms holding the GIL, and so every thread, every few thousand
    requests (the slowest requests of bench/views.py). Reference counting still frees
    any of them dropped later; only a cycle among them would stay in memory, and
    these live until the process ends."""
    gc.collect()
    gc.freeze()


def main(global_config=None, **settings):
    """Build the WSGI application."""
    settings = _settings_from_environment(dict(settings))
    settings.setdefault("jinja2.i18n.gettext", "cabinet.i18n.TemplateGettext")
    secret = settings.get("cabinet.session_secret")
    if not secret:
        raise ValueError("setting 'cabinet.session_secret' is required")
    session_factory = SignedCookieSessionFactory(
        secret, cookie_name="cabinet_session", httponly=True, samesite="Lax",
        secure=asbool(settings.get("cabinet.secure_cookies", False)),
        # idle timeout; the cookie is re-sent at most once a minute to keep it alive
        timeout=int(settings.get("cabinet.session_timeout", 20 * 60)),
        reissue_time=60, hashalg="sha512")
    with Configurator(settings=settings, root_factory=root_factory,
                      session_factory=session_factory) as config:
        config.include("pyramid_jinja2")
        config.add_renderer(".jinja2",
                            "cabinet.views.renderers.search_path_renderer_factory")
        config.include("cabinet.models")
        config.include("cabinet.services")
        config.include("cabinet.mail")
        config.include("cabinet.sms")
        config.include("cabinet.otp")
        config.include("cabinet.registry")
        config.include("cabinet.workflow")
        config.include("cabinet.security")
        config.include("cabinet.views")
        config.include("cabinet.i18n")  # issue #10, A4: catalogs, language of a request
        config.include("cabinet.tweens")
    app = bake_request_extensions(config.make_wsgi_app())
    if asbool(settings.get("cabinet.gc_freeze", False)):
        freeze_startup_objects()
    return app
