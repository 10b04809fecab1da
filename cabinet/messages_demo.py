"""Demo data of patient messaging (issue #9, P3; K3): a short conversation of Léa
Leroy with the Cabinet du Parc (the cabinet's last answer not read yet, a photo she
sent) and two reply templates, one with a PDF. Idempotent."""
from datetime import timedelta

from sqlalchemy import select

from cabinet.interfaces import IBlobStorage, IClock
from cabinet.models import Message, MessageTemplate, User

CONVERSATION = (
    # (side, author login, days and hours ago, text, attachment, read)
    ("patient", "p.leroy", (2, 3), "Bonjour, j'ai une sensibilité depuis le détartrage "
     "de lundi. Est-ce normal ?", None, True),
    ("cabinet", "dr.martin", (2, 1), "Bonjour Madame Leroy, une sensibilité de quelques "
     "jours est normale. Pouvez-vous nous envoyer une photo ?", None, True),
    ("patient", "p.leroy", (1, 5), "Voici la photo.", "photo.png", True),
    ("cabinet", "dr.martin", (0, 2), "Merci, rien d'inquiétant. Nous regarderons lors "
     "de votre prochain rendez-vous.", None, False),
)
TEMPLATES = (
    ("Confirmation de rendez-vous", "Bonjour, votre rendez-vous est bien confirmé. "
     "À bientôt au cabinet.", None),
    ("Consignes après extraction", "Bonjour, vous trouverez ci-joint les consignes à "
     "suivre après une extraction dentaire.", "consignes-extraction.pdf"),
)


def _file(request, name):
    """(sha256, size, type) of a small demo file, or None without a blob storage."""
    from cabinet.blobs import FileBlobStorage
    from cabinet.sample_files import make_pdf, make_png
    storage = request.registry.queryUtility(IBlobStorage)
    if name is None or not isinstance(storage, FileBlobStorage):
        return None
    if name.endswith(".pdf"):
        data, kind = make_pdf("Consignes après une extraction",
                              "Cabinet dentaire du Parc"), "application/pdf"
    else:
        data, kind = make_png(), "image/png"
    return storage.store(data, request.tm), len(data), kind


def _attach(request, target, name):
    found = _file(request, name)
    if found is not None:
        target.blob_sha256, target.size, target.content_type = found
        target.file_name = name


def messages_demo(request, cabinet):
    session = request.dbsession
    now = request.registry.getUtility(IClock).now()
    patient = cabinet["patients"]["leroy"]
    if session.scalar(select(Message.id).where(Message.patient_id == patient.id)) is None:
        users = {u.login: u for u in session.scalars(
            select(User).where(User.login.in_(("p.leroy", "dr.martin"))))}
        for side, login, (days, hours), text, attachment, read in CONVERSATION:
            when = now - timedelta(days=days, hours=hours)
            author = users[login]
            message = Message(patient_id=patient.id, cabinet_id=cabinet.id, side=side,
                              text=text, author_id=author.id, author_name=author.fullname,
                              created=when, read_at=when + timedelta(minutes=30)
                              if read else None, content_type="", file_name="")
            _attach(request, message, attachment)
            session.add(message)
    if session.scalar(select(MessageTemplate.id).where(
            MessageTemplate.cabinet_id == cabinet.id)) is None:
        for title, text, attachment in TEMPLATES:
            template = MessageTemplate(cabinet_id=cabinet.id, title=title, text=text,
                                       created=now, modified=now, content_type="",
                                       file_name="")
            _attach(request, template, attachment)
            session.add(template)
    session.flush()
