"""Benchmark databases: a realistic Cabinet tree of any size, loaded fast.

Shape (``cabinets`` practices, ``documents / docs_per_patient`` patients):

    /cabinets/c<c>/                       Cabinet; administrator ``admin.c<c>``,
                                          professionals ``dr.c<c>a`` and ``dr.c<c>b``
      patients/p<n>/                      Patient n (in cabinet n % cabinets); the user
                                          ``patient<n>`` holds the role patient there
        documents/d<k>/                   docs_per_patient documents, states spread
                                          pending 20%, sent 30%, signed 40%, withdrawn 10%
        questionnaires/q0/                one questionnaire response
    /professionals/dr.c<c>a/              Professional (role professional for dr.c<c>a)
      delegations/sec.c<c>/               active delegation to the secretary ``sec.c<c>``
                                          (role delegate), who acts for dr.c<c>a

The small part (site, cabinets, professionals, delegations, staff users) is created
through the real code (``cabinet.content.add_node``); the bulk (patients, their
folders, documents, questionnaires, patient users and their local roles) with
``INSERT ... SELECT FROM generate_series`` on PostgreSQL (secondary indexes
re-created after the load, foreign-key triggers skipped during it) and core
``executemany`` on SQLite. The schema comes from the alembic migrations, so the real indexes exist;
the tables are analysed (PostgreSQL: VACUUM ANALYZE) after loading.

Every user's password is ``bench``; ``Dataset.tokens`` holds bearer tokens of the
measured users, stored (hashed) in ``api_tokens`` and valid for 30 days.
"""
import secrets
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pyramid.request import Request, apply_request_extensions
from pyramid.threadlocal import manager
from sqlalchemy import create_engine, select, text

from cabinet import main
from cabinet.content import add_node
from cabinet.document_sharing import AUDIENCES, SHARED_ROLE
from cabinet.interfaces import IClock
from cabinet.migrations import upgrade
from cabinet.models import ApiToken, LocalRole, Node, User
from cabinet.models.meta import Base, get_engine
from cabinet.passwords import hash_password
from cabinet.scripts.demo import ensure_site
from cabinet.security import token_hash

HERE = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench"

#: nodes per patient: the patient, documents/, questionnaires/, q0, then the documents
FIXED_PER_PATIENT = 4
T0 = datetime(2023, 1, 1)
SPAN = 3 * 365 * 86400          # modification dates spread over three years
HASH = 2654435761               # Knuth's multiplicative hash: deterministic "random"
DOC_STATES = ("pending", "pending", "sent", "sent", "sent",
              "signed", "signed", "signed", "signed", "withdrawn")
#: (principal, role) rows of a document shared with all audiences (document_sharing)
SHARED_ROLES = tuple((f"role:{audience}", SHARED_ROLE[audience]) for audience in AUDIENCES)
SHARED_VALUES = ", ".join(f"('{principal}', '{role}')" for principal, role in SHARED_ROLES)
Q_STATES = ("pending", "sent", "filled", "validated", "signed")


def app_settings(url, engine=None, **extra):
    settings = {
        "sqlalchemy.url": url,
        "cabinet.workflows": str(HERE / "workflows"),
        "cabinet.templates": str(HERE / "templates"),
        "cabinet.static": str(HERE / "static"),
        "cabinet.session_secret": "bench-secret-" + "x" * 40,
        "cabinet.signing_key_secret": "bench-signing-secret-" + "x" * 24,
        "cabinet.clock": "cabinet.services.clock.SystemClock",
        "cabinet.ratelimiter": "cabinet.services.ratelimit.LimitsRateLimiter",
        "cabinet.ratelimit.storage": "memory://",
        "cabinet.timezone": "Europe/Luxembourg",
        "cabinet.token_hours": "12",
        "retry.attempts": "3",
        "jinja2.extensions": "jinja2.ext.i18n",
        "jinja2.i18n.domain": "cabinet",
        "pyramid.default_locale_name": "fr",
        "pyramid.reload_templates": "false",
        "cabinet.gc_freeze": "true",      # as production.ini
    }
    if engine is not None:
        settings["cabinet.engine"] = engine
    settings.update(extra)
    return settings


def make_request(registry, path="/", headers=None, base_url="http://127.0.0.1:6543"):
    """A request outside a web call (like cabinet.scripts.script_request), with
    headers (e.g. a bearer token). Use as ``with request.tm: ...``, then ``done()``."""
    request = Request.blank(path, base_url=base_url, headers=headers or {})
    request.registry = registry
    apply_request_extensions(request)
    manager.push({"registry": registry, "request": request})
    return request


def done(request):
    manager.pop()


@dataclass
class Dataset:
    url: str
    backend: str
    documents: int
    patients: int
    cabinets: int
    nodes: int = 0
    build_seconds: float = 0.0
    tokens: dict = field(default_factory=dict)       # login -> bearer token
    logins: dict = field(default_factory=dict)       # role -> login
    patient_path: str = ""                           # the measured patient's record
    document_path: str = ""                          # a document of that record (sent)
    listing_path: str = ""                           # /cabinets/c0/patients
    sent_pool: list = field(default_factory=list)    # (id, path) of sent docs in c0


# -- databases ---------------------------------------------------------------------------

@contextmanager
def postgresql_database(prefix="cabinet_bench", keep=False, admin_url=PG_ADMIN_URL):
    """A fresh PostgreSQL database, dropped afterwards unless ``keep``."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgresql_available(admin_url=PG_ADMIN_URL):
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


# -- building ----------------------------------------------------------------------------

def build(url, documents, cabinets=5, docs_per_patient=10, log=print):
    """Migrate the (empty) database at ``url``, load the data set, analyse it.
    Returns (engine, app, Dataset)."""
    started = time.perf_counter()
    engine = get_engine({"sqlalchemy.url": url})
    upgrade(engine)
    app = main({}, **app_settings(url, engine))
    registry = app.registry
    patients = max(cabinets, documents // docs_per_patient)
    data = Dataset(url=url, backend=engine.dialect.name, documents=patients * docs_per_patient,
                   patients=patients, cabinets=cabinets)
    per_patient = FIXED_PER_PATIENT + docs_per_patient

    request = make_request(registry)
    with request.tm:
        staff = _structure(request, cabinets, data)
        session = request.dbsession
        node_base = (session.scalar(select(Node.id).order_by(Node.id.desc()).limit(1)) or 0) + 1
        user_base = (session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0) + 1
    done(request)

    plan = dict(node_base=node_base, user_base=user_base, patients=patients,
                cabinets=cabinets, docs=docs_per_patient, per=per_patient,
                folders=staff["patients_folders"], hash=staff["password_hash"])
    t = time.perf_counter()
    if data.backend == "postgresql":
        _bulk_postgresql(engine, plan)
    else:
        _bulk_sqlite(engine, plan)
    log(f"  bulk load of {patients} patients / {data.documents} documents: "
        f"{time.perf_counter() - t:.1f}s")

    # The measured patient: one in the middle of cabinet 0.
    n = (patients // cabinets // 2) * cabinets
    data.patient_path = f"/cabinets/c0/patients/p{n}"
    patient_id = node_base + n * per_patient
    data.logins.update(patient=f"patient{n}")
    docs = [(patient_id + FIXED_PER_PATIENT + k, k) for k in range(docs_per_patient)]
    sent = [k for node_id, k in docs if doc_state(node_id) == "sent"]
    data.document_path = f"{data.patient_path}/documents/d{sent[0] if sent else 0}"
    data.listing_path = "/cabinets/c0/patients"
    # sent documents of cabinet 0 (for transitions), far from the measured patient
    pool = []
    for m in range(0, patients, cabinets):
        if m == n:
            continue
        for k in range(docs_per_patient):
            node_id = node_base + m * per_patient + FIXED_PER_PATIENT + k
            if doc_state(node_id) == "sent":
                pool.append((node_id, f"/cabinets/c0/patients/p{m}/documents/d{k}"))
        if len(pool) >= 4000:
            break
    data.sent_pool = pool

    request = make_request(registry)
    with request.tm:
        session = request.dbsession
        now = registry.getUtility(IClock).now()
        for role, login in data.logins.items():
            user = session.scalar(select(User).where(User.login == login))
            token = secrets.token_urlsafe(32)
            session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), created=now,
                                 expires=now + timedelta(days=30)))
            data.tokens[login] = token
    done(request)

    t = time.perf_counter()
    analyse(engine)
    log(f"  {'VACUUM ANALYZE' if data.backend == 'postgresql' else 'ANALYZE'}: "
        f"{time.perf_counter() - t:.1f}s")
    with engine.connect() as conn:
        data.nodes = conn.scalar(text("SELECT count(*) FROM nodes"))
    data.build_seconds = time.perf_counter() - started
    return engine, app, data


def analyse(engine):
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def doc_state(node_id):
    return DOC_STATES[node_id * 7 % 10]


def modified_at(node_id):
    return T0 + timedelta(seconds=node_id * HASH % SPAN)


def _structure(request, cabinets, data):
    """Site, cabinets, professionals, delegations and staff users, via the real code."""
    session, registry = request.dbsession, request.registry
    today = registry.getUtility(IClock).today()
    password_hash = hash_password(PASSWORD)

    def user(login, fullname):
        u = User(login=login, fullname=fullname, password_hash=password_hash,
                 email=f"{login}@bench.example")
        session.add(u)
        session.flush()
        return u

    def grant(node, u, role):
        session.add(LocalRole(node_id=node.id, principal=u.principal, role=role))

    root = ensure_site(request)
    top = {name: root[name] for name in ("cabinets", "professionals")}  # made with the site
    folders = []
    for c in range(cabinets):
        cabinet = add_node(session, registry, top["cabinets"], "Cabinet", name=f"c{c}",
                           title=f"Cabinet {c}", address=f"{c} rue du Banc", phone="",
                           email=f"c{c}@bench.example")
        folders.append(session.scalar(select(Node.id).where(
            Node.parent_id == cabinet.id, Node.name == "patients")))
        admin = user(f"admin.c{c}", f"Admin {c}")
        grant(cabinet, admin, "administrator")
        pros = []
        for letter in "ab":
            pro_user = user(f"dr.c{c}{letter}", f"Dr {c}{letter.upper()}")
            grant(cabinet, pro_user, "professional")
            pro = add_node(session, registry, top["professionals"], "Professional",
                           name=f"dr.c{c}{letter}", title=f"Dr {c}{letter.upper()}",
                           user_id=pro_user.id, speciality="Chirurgien-dentiste")
            grant(pro, pro_user, "professional")
            pros.append(pro)
        secretary = user(f"sec.c{c}", f"Secretary {c}")
        delegation = add_node(
            session, registry, pros[0]["delegations"], "Delegation", name=f"sec.c{c}",
            title=f"Secretary {c} for Dr {c}A", professional_id=pros[0].id,
            delegate_id=secretary.id, start_date=today - timedelta(days=30), end_date=None,
            can_sign=False)
        delegation.state = "active"
        grant(delegation, secretary, "delegate")
    session.flush()
    data.logins.update(administrator="admin.c0", professional="dr.c0a", secretary="sec.c0")
    return {"patients_folders": folders, "password_hash": password_hash}


# -- bulk: PostgreSQL ----------------------------------------------------------------------

def _bulk_postgresql(engine, p):
    folders = "(ARRAY[" + ",".join(str(f) for f in p["folders"]) + "])"
    # n: patient number; pid: the patient's node id; c: its cabinet
    patients = (f"SELECT n, {p['node_base']} + n * {p['per']} AS pid, n % {p['cabinets']} AS c "
                f"FROM generate_series(0, {p['patients'] - 1}) AS n")

    def ts(node_id):   # modified_at() in SQL
        return (f"(TIMESTAMP '{T0.isoformat(sep=' ')}' + "
                f"(({node_id})::bigint * {HASH} % {SPAN}) * INTERVAL '1 second')")

    doc_states = "(ARRAY[" + ",".join(f"'{s}'" for s in DOC_STATES) + "])"
    q_states = "(ARRAY[" + ",".join(f"'{s}'" for s in Q_STATES) + "])"
    ppath = "'/cabinets/c' || c || '/patients/p' || n || '/'"
    statements = [
        # patient accounts
        f"""INSERT INTO users (id, login, fullname, email, phone, password_hash, active, created)
            SELECT {p['user_base']} + n, 'patient' || n, 'Patient ' || n,
                   'patient' || n || '@bench.example', NULL, :hash, true, TIMESTAMP '{T0}'
            FROM generate_series(0, {p['patients'] - 1}) AS n""",
        # all the nodes in one statement, in id order: each patient's record lies
        # together in the table, as it would after years of use
        f"""INSERT INTO nodes (id, parent_id, name, type, path, title, state, owner_id,
                               created, modified, version)
            SELECT * FROM (
            SELECT pid AS id, {folders}[c + 1], 'p' || n, 'patient', {ppath},
                   'Patient ' || n, 'active', NULL::integer, {ts('pid')}, {ts('pid')}, 1
            FROM ({patients}) AS p
            UNION ALL  -- documents/ and questionnaires/
            SELECT pid + f, pid, (ARRAY['documents', 'questionnaires'])[f],
                   'folder', {ppath} || (ARRAY['documents', 'questionnaires'])[f] || '/',
                   (ARRAY['Documents', 'Questionnaires'])[f], 'published', NULL,
                   {ts('pid')}, {ts('pid')}, 1
            FROM ({patients}) AS p, generate_series(1, 2) AS f
            UNION ALL  -- one questionnaire response
            SELECT pid + 3, pid + 2, 'q0', 'questionnaire',
                   {ppath} || 'questionnaires/q0/', 'Questionnaire médical',
                   {q_states}[(pid + 3) % 5 + 1], NULL,
                   {ts('(pid + 3)')} - INTERVAL '1 day', {ts('(pid + 3)')}, 1
            FROM ({patients}) AS p
            UNION ALL  -- the documents
            SELECT pid + {FIXED_PER_PATIENT} + k, pid + 1, 'd' || k, 'document',
                   {ppath} || 'documents/d' || k || '/', 'Document ' || k || ' of patient ' || n,
                   {doc_states}[(pid + {FIXED_PER_PATIENT} + k) * 7 % 10 + 1], NULL,
                   {ts(f'(pid + {FIXED_PER_PATIENT} + k)')} - INTERVAL '1 day',
                   {ts(f'(pid + {FIXED_PER_PATIENT} + k)')}, 1
            FROM ({patients}) AS p, generate_series(0, {p['docs'] - 1}) AS k
            ) AS rows ORDER BY id""",
        f"""INSERT INTO patients (id, first_name, last_name, birth_date, phone, email, user_id)
            SELECT pid, 'First' || n, 'Last' || n, DATE '1950-01-01' + (n * 37 % 25000),
                   '+352621' || lpad(n::text, 6, '0'), 'patient' || n || '@bench.example',
                   {p['user_base']} + n
            FROM ({patients}) AS p""",
        f"""INSERT INTO questionnaire_responses (id, answers)
            SELECT pid + 3, NULL FROM ({patients}) AS p""",
        f"""INSERT INTO documents (id, description, needs_signature)
            SELECT pid + {FIXED_PER_PATIENT} + k, '', k % 2 = 0
            FROM ({patients}) AS p, generate_series(0, {p['docs'] - 1}) AS k""",
        # each patient's account holds the role patient on their record
        f"""INSERT INTO local_roles (node_id, principal, role)
            SELECT pid, 'user:' || ({p['user_base']} + n), 'patient' FROM ({patients}) AS p""",
        # who each document is shared with (cabinet.document_sharing: an untyped
        # document of a record without overrides goes to all three audiences), which
        # its after_flush listener would have written for documents added one by one
        f"""INSERT INTO local_roles (node_id, principal, role)
            SELECT pid + {FIXED_PER_PATIENT} + k, a.principal, a.role
            FROM ({patients}) AS p, generate_series(0, {p['docs'] - 1}) AS k,
                 (VALUES {SHARED_VALUES}) AS a(principal, role)""",
        "SELECT setval(pg_get_serial_sequence('nodes', 'id'), (SELECT max(id) FROM nodes))",
        "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))",
    ]
    tables = ("users", "nodes", "patients", "documents", "questionnaire_responses",
              "local_roles")
    with engine.begin() as conn:
        # Load first, index after: the secondary indexes (those made by the migration,
        # not backing a constraint) are dropped and re-created with their exact
        # definitions; foreign-key triggers are skipped for the load (the generated
        # rows are consistent by construction; PostgreSQL superuser only).
        indexes = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
            "AND tablename = ANY(:tables) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"),
            {"tables": list(tables)}).all()
        for name, _definition in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement), {"hash": p["hash"]} if ":hash" in statement else {})
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            conn.execute(text(definition))


# -- bulk: SQLite (and any other database) ------------------------------------------------

def _bulk_sqlite(engine, p, chunk=20_000):
    tables = Base.metadata.tables
    nodes, users, local_roles = tables["nodes"], tables["users"], tables["local_roles"]
    patients_t, documents_t, questionnaires_t = (
        tables["patients"], tables["documents"], tables["questionnaire_responses"])
    rows = {name: [] for name in ("users", "nodes", "patients", "documents",
                                  "questionnaires", "local_roles")}

    def node(id_, parent, name, type_, path, title, state, created, modified):
        rows["nodes"].append(dict(id=id_, parent_id=parent, name=name, type=type_, path=path,
                                  title=title, state=state, owner_id=None, created=created,
                                  modified=modified, version=1))

    def flush(conn, force=False):
        if not force and len(rows["nodes"]) < chunk:
            return
        for name, table in (("users", users), ("nodes", nodes), ("patients", patients_t),
                            ("documents", documents_t), ("questionnaires", questionnaires_t),
                            ("local_roles", local_roles)):
            if rows[name]:
                conn.execute(table.insert(), rows[name])
                rows[name].clear()

    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        for n in range(p["patients"]):
            c = n % p["cabinets"]
            pid = p["node_base"] + n * p["per"]
            uid = p["user_base"] + n
            ppath = f"/cabinets/c{c}/patients/p{n}/"
            at = modified_at(pid)
            rows["users"].append(dict(id=uid, login=f"patient{n}", fullname=f"Patient {n}",
                                      email=f"patient{n}@bench.example", phone=None,
                                      password_hash=p["hash"], active=True, created=T0))
            node(pid, p["folders"][c], f"p{n}", "patient", ppath, f"Patient {n}", "active",
                 at, at)
            rows["patients"].append(dict(
                id=pid, first_name=f"First{n}", last_name=f"Last{n}",
                birth_date=(datetime(1950, 1, 1) + timedelta(days=n * 37 % 25000)).date(),
                phone=f"+352621{n:06d}", email=f"patient{n}@bench.example", user_id=uid))
            for f, (name, title) in enumerate((("documents", "Documents"),
                                               ("questionnaires", "Questionnaires")), 1):
                node(pid + f, pid, name, "folder", f"{ppath}{name}/", title, "published", at, at)
            qid = pid + 3
            node(qid, pid + 2, "q0", "questionnaire", f"{ppath}questionnaires/q0/",
                 "Questionnaire médical", Q_STATES[qid % 5],
                 modified_at(qid) - timedelta(days=1), modified_at(qid))
            rows["questionnaires"].append(dict(id=qid, answers=None))
            for k in range(p["docs"]):
                did = pid + FIXED_PER_PATIENT + k
                node(did, pid + 1, f"d{k}", "document", f"{ppath}documents/d{k}/",
                     f"Document {k} of patient {n}", doc_state(did),
                     modified_at(did) - timedelta(days=1), modified_at(did))
                rows["documents"].append(dict(id=did, description="",
                                              needs_signature=k % 2 == 0))
                rows["local_roles"].extend(dict(node_id=did, principal=principal, role=role)
                                           for principal, role in SHARED_ROLES)
            rows["local_roles"].append(dict(node_id=pid, principal=f"user:{uid}",
                                            role="patient"))
            flush(conn)
        flush(conn, force=True)
