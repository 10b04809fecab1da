"""HTML pages and the JSON API, one module per area."""
from cabinet.security import uses_bearer_token


def includeme(config):
    settings = config.get_settings()
    config.add_jinja2_search_path(settings.get("cabinet.templates", "templates"),
                                  name=".jinja2")
    config.add_static_view("static", settings.get("cabinet.static", "static"),
                           cache_max_age=3600)
    config.set_default_csrf_options(
        require_csrf=True, token="csrf_token", header="X-CSRF-Token",
        callback=lambda request: not uses_bearer_token(request))
    config.set_default_permission("site:view")
    config.add_subscriber("cabinet.labels.add_renderer_globals",
                          "pyramid.events.BeforeRender")
    config.include("cabinet.formats")     # |date, |time, |datetime, |amount (A4)
    config.include("cabinet.views.predicates")
    config.include("cabinet.views.content")
    config.include("cabinet.views.workflow")
    config.include("cabinet.views.sharing")
    config.include("cabinet.views.permissions")
    config.include("cabinet.views.search")
    config.include("cabinet.views.spaces")
    config.include("cabinet.views.terms")
    config.include("cabinet.views.registry")
    config.include("cabinet.views.mandates")
    config.include("cabinet.views.delegations")
    config.include("cabinet.views.documents")
    config.include("cabinet.views.patient_login")
    config.include("cabinet.views.certificates")
    config.include("cabinet.views.signatures")
    config.include("cabinet.views.appointments")          # issue #5: appointments
    config.include("cabinet.views.appointment_settings")  # types, auto-send rules
    config.include("cabinet.views.patient_appointments")  # issue #9, P1: .ics, feed
    config.include("cabinet.views.messages")     # issue #9, P3 (+ console, K3 templates)
    config.include("cabinet.views.notifications")  # issue #9, P7: reminders
    config.include("cabinet.payment_provider")            # issue #9, P2: payments
    config.include("cabinet.views.care_items")
    config.include("cabinet.views.payments")
    config.include("cabinet.views.imaging")      # issue #9, P5 (+ K3 selection)
    config.include("cabinet.views.questionnaire_templates")  # issue #5, Q1
    config.include("cabinet.views.questionnaire_template_pages")
    config.include("cabinet.views.questionnaire_responses")  # issue #5, Q2-Q5
    config.include("cabinet.modules")               # issue #10, K2: module switches
    config.include("cabinet.views.cabinet_settings")  # issue #10, K1/K2
    config.include("cabinet.views.work_queues")     # issue #10, K4: the console's lists
    config.include("cabinet.views.statistics")      # issue #10, K5: statistics
    config.include("cabinet.views.portal")          # issue #9: home, my cabinet, P8
    config.include("cabinet.views.my_information")  # issue #9, P4
    config.include("cabinet.views.add_patient")     # issue #9, P8: add a patient
    config.include("cabinet.views.health")       # issue #6: /@health for monitoring
    config.scan("cabinet.views")
