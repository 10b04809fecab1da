"""Models and the per-request database session."""
from sqlalchemy.orm import configure_mappers

from .meta import (  # noqa: F401
    Base, get_engine, get_session_factory, get_tm_session, joined_text,
)
from .users import ApiToken, Group, GroupMember, User  # noqa: F401
# issue #9, P2: first, so that the names below include the CareItem content type
from .payments import CareItem, OnlinePayment  # noqa: F401
from .imaging import Image, ImagingSettings  # noqa: F401  (issue #9, P5)
from .nodes import (  # noqa: F401
    CONTENT_TYPES, SEARCHABLE_TYPES, Appointment, Cabinet, Delegation, Document, Folder,
    Mandate,
    Membership, Node, Patient, Professional, QuestionnaireResponse, QuestionnaireTemplate,
    Site, Space,
)
from .access import HistoryEntry, LocalRole  # noqa: F401
from .terms import TermsAcceptance, TermsVersion  # noqa: F401
from .otp import DirectoryAccount, OneTimeCode, OneTimeCodeSend  # noqa: F401
from .documents import (  # noqa: F401
    CabinetDocumentSettings, DocumentType, PatientSharing,
)
from .signatures import Signature, SigningKey  # noqa: F401
from .questionnaires import TemplateVersion  # noqa: F401
from .audit import AuditEvent, AuditHead  # noqa: F401
from .appointments import (  # noqa: F401
    AppointmentType, AutosendRule, ScheduledSend, WorkerJob,
)
from .calendar_feeds import CalendarFeed  # noqa: F401
from .messages import Message, MessageTemplate  # noqa: F401
from .reminders import NotificationSetting, OutboxMessage, ReminderRule  # noqa: F401
from .portal import InformationProposal  # noqa: F401  (issue #9, P4)
from .statistics import GatewayStatus, PortalLogin  # noqa: F401  (issue #10, K1/K5)

configure_mappers()


def includeme(config):
    """``request.dbsession``: a session joined to the request's transaction."""
    settings = config.get_settings()
    settings["tm.manager_hook"] = "cabinet.after_commit.transaction_manager"
    # pyramid_tm would load the user (a query) to annotate the transaction before the
    # exception views can handle anything: with the database down that query's error
    # became a bare 500. Nothing reads the annotation; the user is loaded when needed.
    settings.setdefault("tm.annotate_user", "false")
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    engine = settings.get("cabinet.engine") or get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbsession_factory"] = session_factory
    config.registry["db_engine"] = engine

    def dbsession(request):
        return get_tm_session(session_factory, request.tm, request=request)

    config.add_request_method(dbsession, reify=True)
