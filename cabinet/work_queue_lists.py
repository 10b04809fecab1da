"""The console's five work queues (issue #10, K4), each a cabinet.work_queues.Queue:
its columns, filters and SELECT; ``QUEUES`` by name."""
from sqlalchemy import exists, func, or_

from cabinet import documents, errors, questionnaire_console, questionnaire_responses
from cabinet.appointments import local_now, utc_day_bounds
from cabinet.document_sharing import document_types
from cabinet.i18n import C_, N_, _
from cabinet.models import LocalRole, Message, Node, OnlinePayment, Patient, User
from cabinet.search import readable_filter, subtree
from cabinet.work_queues import Column, Filter, Queue, node_state_title, parse_day

_nodes = Node.__table__



def _patient_url(request, path):
    from cabinet.views.base import node_url
    return node_url(request, path)


class PatientsQueue(Queue):
    """Patients who use the portal: a record on which someone holds the role
    ``patient`` (granted at their first patient login) or which is linked to an
    account."""
    name = "patients"
    title = N_("Patients utilisant le portail")
    description = N_("Les patients qui se sont identifiés dans l'application, avec "
                     "leurs rendez-vous, messages, paiements, documents, questionnaires "
                     "et leur historique.")
    _patients = Patient.__table__
    columns = (
        Column("title", N_("Patient"), _nodes.c.title),
        Column("last_name", C_("last name", "Nom"), _patients.c.last_name),
        Column("first_name", N_("Prénom"), _patients.c.first_name),
        Column("birth_date", N_("Date de naissance"), _patients.c.birth_date, "date"),
        Column("phone", N_("Téléphone"), True),
        Column("email", N_("E-mail"), _patients.c.email),
        Column("created", N_("Créé le"), _nodes.c.created, "datetime"),
    )
    default_sort, default_order = "title", "ascending"
    search = _nodes.c.title

    def statement(self, request, cabinet, values):
        p = self._patients
        uses_portal = or_(p.c.user_id.isnot(None), exists().where(
            LocalRole.node_id == _nodes.c.id, LocalRole.role == "patient"))
        columns = (_nodes.c.id, _nodes.c.path, _nodes.c.title, _nodes.c.created,
                   p.c.last_name, p.c.first_name, p.c.birth_date, p.c.phone, p.c.email)
        conditions = [readable_filter(request, ("Patient",)), _nodes.c.type == "patient",
                      subtree(cabinet.path), uses_portal]
        return columns, _nodes.join(p, p.c.id == _nodes.c.id), conditions, _nodes.c.id

    def links(self, request, row):
        url = _patient_url(request, row.path)
        return {"@id": url, "title": url + "/@@patient-console"}


class PaymentsQueue(Queue):
    """The online payments of a chosen day (by default today, never a day to come),
    on the records whose payments the user may view (``payment:view``)."""
    name = "payments"
    title = N_("Paiements du jour")
    description = N_("Les paiements en ligne faits par les patients un jour donné.")
    _payments = OnlinePayment.__table__
    _users = User.__table__
    STATES = {"approved": N_("Accepté"), "pending": N_("En attente"),
              "declined": N_("Refusé par la banque"), "refused": N_("Refusé (trop payé)")}
    columns = (
        Column("created", N_("Heure"), _payments.c.created, "datetime"),
        Column("patient_title", N_("Patient"), _nodes.c.title),
        Column("amount", N_("Montant"), _payments.c.amount, "money"),
        Column("state", N_("État"), _payments.c.state, "state"),
        Column("payer", N_("Payé par"), _users.c.fullname),
        Column("reference", N_("Référence"), True),
    )
    filters = (Filter("day", N_("Jour"), "date"), Filter("state", N_("État"), "select"))
    default_sort, default_order = "created", "descending"
    search = _nodes.c.title

    def read_filters(self, request, cabinet):
        today = local_now(request).date()        # the cabinet's day, not UTC's
        raw = request.GET.get("day", "").strip()
        day = parse_day(raw, "day") if raw else today
        if day > today:
            raise errors.unprocessable(
                N_("Le jour choisi est dans le futur : aucun paiement n'y a encore été fait."),
                errors={"day": N_("Choisissez aujourd'hui ou un jour passé.")}, field="day")
        state = request.GET.get("state", "").strip()
        if state and state not in self.STATES:
            raise errors.bad_request(_("« state » est l'un de : ${states}.",
                                       mapping={"states": ", ".join(self.STATES)}),
                                     field="state")
        return {"day": day, "state": state}

    def options(self, request, cabinet):
        return {"state": list(self.STATES.items())}

    def statement(self, request, cabinet, values):
        op, users = self._payments, self._users
        # the cabinet's day (a payment at 23:30 UTC in summer is on the next one)
        start, end = utc_day_bounds(request.registry, values["day"])
        columns = (op.c.id, op.c.created, op.c.amount, op.c.state, op.c.reference,
                   op.c.processed_at, _nodes.c.path.label("patient_path"),
                   _nodes.c.title.label("patient_title"), users.c.fullname.label("payer"))
        conditions = [readable_filter(request, ("Patient",), "payment:view"),
                      subtree(cabinet.path), op.c.created >= start, op.c.created < end]
        if values["state"]:
            conditions.append(op.c.state == values["state"])
        joins = (op.join(_nodes, _nodes.c.id == op.c.patient_id)
                 .outerjoin(users, users.c.id == op.c.user_id))
        return columns, joins, conditions, op.c.id

    def links(self, request, row):
        url = _patient_url(request, row.patient_path)
        return {"@id": url + "/payments", "patient_title": url + "/@@patient-console"}

    def label(self, request, column, value):
        return self.STATES.get(value, value)


class MessagesQueue(Queue):
    """The patients' messages the cabinet has not read, on the records whose
    conversation the user answers (``message:reply``)."""
    name = "messages"
    title = N_("Messages non lus")
    description = N_("Les messages de vos patients que le cabinet n'a pas encore lus.")
    _messages = Message.__table__
    columns = (
        Column("created", N_("Reçu le"), _messages.c.created, "datetime"),
        Column("patient_title", N_("Patient"), _nodes.c.title),
        Column("author", N_("Écrit par"), True),
        Column("text", N_("Message")),
        Column("file_name", N_("Pièce jointe")),
    )
    default_sort, default_order = "created", "descending"
    search = _nodes.c.title
    permission = "message:reply"

    def statement(self, request, cabinet, values):
        m = self._messages
        columns = (m.c.id, m.c.created, m.c.author_name.label("author"),
                   func.substr(m.c.text, 1, 200).label("text"), m.c.file_name,
                   _nodes.c.path.label("patient_path"),
                   _nodes.c.title.label("patient_title"))
        conditions = [m.c.cabinet_id == cabinet.id, m.c.side == "patient",
                      m.c.read_at.is_(None),
                      readable_filter(request, ("Patient",), "message:reply"),
                      subtree(cabinet.path)]
        return columns, m.join(_nodes, _nodes.c.id == m.c.patient_id), conditions, m.c.id

    def links(self, request, row):
        url = _patient_url(request, row.patient_path)
        return {"@id": url + "/@@conversation", "patient_title": url + "/@@patient-console"}


class ItemOnRecordLinks:
    """Links of a queue whose rows are items of a patient record (a document, a
    questionnaire): the item itself, and the patient's console."""

    def links(self, request, row):
        url = _patient_url(request, row.path)
        return {"@id": url, "title": url,
                "patient_title": _patient_url(request, row.patient_path)
                + "/@@patient-console"}


class SignaturesQueue(ItemOnRecordLinks, Queue):
    """The documents sent for signature (C5): cabinet.documents' statement."""
    name = "signatures"
    title = N_("Documents en attente de signature")
    description = N_("Tous les documents envoyés pour signature, tout patient confondu.")
    columns = (
        Column("modified", N_("Envoyé le"), True, "datetime"),
        Column("patient_title", N_("Patient"), True),
        Column("title", N_("Document"), True),
        Column("type_title", N_("Type de document"), True),
        Column("owner_name", N_("Envoyé par"), True),
    )
    filters = (Filter("practitioner", N_("Envoyé par"), "select"),
               Filter("document_type", N_("Type de document"), "select"))
    default_sort, default_order = "modified", "ascending"

    def read_filters(self, request, cabinet):
        return {"practitioner": request.GET.get("practitioner", "").strip()[:100],
                "document_type": request.GET.get("document_type", "").strip()[:200]}

    def options(self, request, cabinet):
        return {"practitioner": [(login, name or login) for login, name
                                 in documents.cabinet_practitioners(request, cabinet)],
                "document_type": [(t.name, t.title) for t in
                                  document_types(request.dbsession, cabinet)]}

    def statement(self, request, cabinet, values):
        columns, joins, conditions = documents.awaiting_statement(
            request, cabinet, documents.AwaitingQuery(
                practitioner=values["practitioner"], document_type=values["document_type"]))
        return columns, joins, conditions, _nodes.c.id


class QuestionnairesQueue(ItemOnRecordLinks, Queue):
    """The questionnaires sent over a period, by state (Q5): the console's query
    (cabinet.questionnaire_console: period of at most two years, state,
    practitioner, template)."""
    name = "questionnaires"
    title = N_("Questionnaires sur une période")
    description = N_("Les questionnaires envoyés aux patients sur une période, par état : "
                     "envoyé mais non rempli, rempli, validé, signé.")
    columns = (
        Column("sent_at", N_("Envoyé le"), True, "datetime"),
        Column("patient_title", N_("Patient"), True),
        Column("title", N_("Questionnaire"), True),
        Column("practitioner_title", N_("Praticien"), True),
        Column("state", N_("État"), True, "state"),
    )
    filters = (Filter("from", N_("Du"), "date"), Filter("to", N_("Au"), "date"),
               Filter("state", N_("État"), "select"),
               Filter("practitioner", N_("Praticien"), "select"),
               Filter("template", N_("Modèle"), "select"))
    default_sort, default_order = "sent_at", "descending"

    def read_filters(self, request, cabinet):
        query = questionnaire_console.read_query(request, cabinet)
        return {"query": query, "from": query.start, "to": query.end}

    def options(self, request, cabinet):
        from cabinet.views.questionnaire_console import STATE_FILTERS
        session = request.dbsession
        return {"state": [(s, STATE_FILTERS[s]) for s in questionnaire_console.STATES],
                "practitioner": [(p.name, p.title) for p in
                                 questionnaire_responses.cabinet_practitioners(session, cabinet)],
                "template": [(t.name, t.title) for t in
                             questionnaire_responses.cabinet_templates(session, cabinet)]}

    def statement(self, request, cabinet, values):
        columns, joins, conditions = questionnaire_console.console_statement(
            request, cabinet, values["query"])
        return columns, joins, conditions, _nodes.c.id

    def label(self, request, column, value):
        return node_state_title(request, "questionnaire", value)


QUEUES = {queue.name: queue for queue in (
    PatientsQueue(), PaymentsQueue(), MessagesQueue(), SignaturesQueue(),
    QuestionnairesQueue())}


def queue_named(name):
    queue = QUEUES.get(name)
    if queue is None:
        raise errors.not_found(_("Il n'y a pas de liste « ${name} » ; les listes : ${names}.",
                                 mapping={"name": name[:50], "names": ", ".join(QUEUES)}))
    return queue
