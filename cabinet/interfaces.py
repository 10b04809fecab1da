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


class IQuestionnaireResponse(INode):
    """A questionnaire sent to a patient."""


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
