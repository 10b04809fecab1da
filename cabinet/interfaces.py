"""Interfaces of resources, events and services; views register for these."""
from zope.interface import Attribute, Interface


class INode(Interface):
    """Any resource of the content tree."""


class ISite(INode):
    """The root."""


class IFolder(INode):
    """A container of one type of content (patients, documents, ...)."""


class ICabinet(INode):
    """A practice."""


class IPatient(INode):
    """A patient record."""


class IDocument(INode):
    """A document attached to a patient."""


class IQuestionnaireTemplate(INode):
    """A cabinet's questionnaire, with versioned questions (issue #5)."""


class IQuestionnaireResponse(INode):
    """A questionnaire sent to a patient."""


class IAppointment(INode):
    """An appointment of a patient with a practitioner (issue #5)."""


class ICareItem(INode):
    """A care item ("prestation") a patient owes the cabinet for (issue #9, P2)."""


class IImage(INode):
    """A radiograph or photo of a patient (issue #9, P5)."""


class IProfessional(INode):
    """A health professional."""


class IDelegation(INode):
    """A secretary's delegation from a professional."""


class ISpace(INode):
    """A professional space (company)."""


class IMembership(INode):
    """A member of a professional space."""


class IMandate(INode):
    """A mandate given by a space to a provider space."""


class IAfterTransition(Interface):
    """Notified after a workflow transition has been applied (same transaction)."""
    object = Attribute("the resource")
    request = Attribute("the request")
    workflow = Attribute("the workflow definition")
    transition = Attribute("the transition name")
    from_state = Attribute("state before")
    to_state = Attribute("state after")
    history = Attribute("the history entry written")


class IObjectAdded(Interface):
    """Notified by cabinet.content.add_node once a node and its folders exist (same
    transaction; no request: scripts and migrations add nodes too)."""
    object = Attribute("the new node")
    session = Attribute("the database session")
    registry = Attribute("the application registry")


class IClock(Interface):
    """Where time comes from; tests move it."""

    def now():
        """Naive UTC datetime."""

    def today():
        """The current date in the practice's time zone."""


class IRateLimiter(Interface):
    """Counts attempts per key within windows."""

    def hit(scope, key):
        """Record one attempt; return False when the limit is exceeded."""

    def test(scope, key):
        """True while another attempt is allowed."""

    def clear(scope, key):
        """Forget the attempts of this key."""


class IPersonRegistry(Interface):
    """The national person registry (issue #3): who holds a matricule."""

    def lookup(matricule):
        """A dict {matricule, first_name, last_name, birth_date (date), address} for a
        valid 13-digit matricule, or None when no person holds it. Raises
        cabinet.registry.RegistryUnavailable when the registry cannot be reached."""


class ISmsGateway(Interface):
    """Sends text messages (cabinet/sms.py: file in development, HTTP in production)."""

    def send(to, text):
        """Send ``text`` to the phone number ``to`` (E.164, e.g. +352621123456).
        Raises cabinet.sms.SmsError when the gateway refuses or cannot be reached."""


class IBlobStorage(Interface):
    """File storage for documents' bytes (cabinet/blobs.py), content-addressed by
    SHA-256 and transactional: what is stored becomes reachable when the transaction
    commits, never when it aborts."""

    def store(data, transaction_manager):
        """Keep ``data`` (bytes) to be written with the transaction of
        ``transaction_manager``; return its SHA-256 (hex)."""

    def exists(sha256):
        """True when the bytes of ``sha256`` are reachable (committed)."""

    def path(sha256):
        """The file holding the committed bytes of ``sha256``; raises KeyError when
        there is none."""

    def collect_garbage(referenced, now=None):
        """Remove committed files whose hash is not in ``referenced`` and temporary
        files left by interrupted commits, both once older than the grace period;
        return what was done (a dict of lists)."""


class IPaymentProvider(Interface):
    """The online payment provider (issue #9, P2; cabinet/payment_provider.py): the
    payer is sent to the provider's page, and the provider calls Cabinet back with
    the outcome, signed with HMAC-SHA256 (secret ``cabinet.payments.secret``)."""

    def start(request, payment, callback_url, return_url):
        """The URL of the provider's page where the payer pays ``payment`` (an
        OnlinePayment, pending); the provider posts the outcome to
        ``callback_url`` and sends the payer back to ``return_url``."""

    def sign(body):
        """The signature (hex) of a callback's raw ``body`` (bytes)."""

    def parse_callback(request):
        """``{"reference", "status" ("approved" or "declined"), "amount" (str)}``
        from a callback request whose signature holds; raises
        cabinet.payment_provider.BadCallback otherwise."""
