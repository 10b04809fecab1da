"""The thin reference app of issue #7, served by waitress: what a document page costs
with the usual Pyramid stack and none of Cabinet's security.

Traversal (``/docs/<name>``), one ACL (``view`` for every authenticated user),
SQLAlchemy 2 ORM with pyramid_tm + zope.sqlalchemy, a signed-cookie session holding
the user id, the user loaded once per request (reified), Jinja2 through
pyramid_jinja2 with a layout. No local roles, no lineage, no delegation, no workflow,
no history. bench/views.py measures its document page (endpoint ``thin``) in the same
run as Cabinet's, to say whether Cabinet is faster than the app that does less.

    .venv/bin/python bench/thin.py --build var/thin.sqlite --documents 100000
    .venv/bin/python bench/thin.py --db var/thin.sqlite --port 6551 --threads 4
"""
import argparse
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.session import SignedCookieSessionFactory
from sqlalchemy import DateTime, ForeignKey, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
import zope.sqlalchemy

SECRET = "thin-reference-app"
USER = "reader"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><header><nav><a href="/">Home</a> <a href="/docs">Documents</a>
<span>{{ user.fullname }}</span></nav></header>
<main>{% block content %}{% endblock %}</main><footer>Thin app</footer></body></html>
"""
DOCUMENT = """{% extends "layout.jinja2" %}
{% block content %}<h1>{{ context.title }}</h1>
<p class="badge">{{ context.state }}</p>
<dl><dt>Created</dt><dd>{{ context.created.strftime("%Y-%m-%d %H:%M") }}</dd>
<dt>Modified</dt><dd>{{ context.modified.strftime("%Y-%m-%d %H:%M") }}</dd></dl>
<p>{{ context.description }}</p>{% endblock %}
"""


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    fullname: Mapped[str] = mapped_column(String(200))


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(2000))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created: Mapped[datetime] = mapped_column(DateTime)
    modified: Mapped[datetime] = mapped_column(DateTime)

    __acl__ = [(Allow, Authenticated, "view")]


class Docs:
    __name__ = "docs"
    __acl__ = [(Allow, Authenticated, "view")]

    def __init__(self, parent, request):
        self.__parent__, self.request = parent, request

    def __getitem__(self, name):
        doc = self.request.dbsession.scalar(select(Doc).where(Doc.name == name))
        if doc is None:
            raise KeyError(name)
        doc.__parent__, doc.__name__ = self, name
        return doc


class Root:
    __name__ = __parent__ = None
    __acl__ = [(Allow, Everyone, "login")]

    def __init__(self, request):
        self.request = request

    def __getitem__(self, name):
        if name == "docs":
            return Docs(self, self.request)
        raise KeyError(name)


class Policy:
    """The user id from the session; the user loaded once per request."""

    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        principals = [Everyone]
        if request.user is not None:
            principals += [Authenticated, f"user:{request.user.id}"]
        return ACLHelper().permits(context, principals, permission)


def request_user(request):
    user_id = request.session.get("user_id")
    return request.dbsession.get(User, user_id) if user_id is not None else None


def document_view(context, request):
    return {"context": context, "user": request.user, "title": context.title}


def login_view(context, request):
    user = request.dbsession.scalar(select(User).where(User.login == request.POST["login"]))
    request.session["user_id"] = user.id
    return HTTPFound("/docs")


def make_app(db):
    engine = create_engine(f"sqlite:///{db}")
    factory = sessionmaker(bind=engine)
    with Configurator(root_factory=Root) as config:
        config.set_security_policy(Policy())
        config.set_session_factory(SignedCookieSessionFactory(SECRET, httponly=True))
        config.include("pyramid_tm")
        config.include("pyramid_jinja2")
        templates = Path(tempfile.mkdtemp(prefix="thin-templates-"))
        (templates / "layout.jinja2").write_text(PAGE)
        (templates / "document.jinja2").write_text(DOCUMENT)
        config.add_jinja2_search_path(str(templates))
        config.add_jinja2_renderer(".jinja2")

        def dbsession(request):
            session = factory()
            zope.sqlalchemy.register(session, transaction_manager=request.tm)
            return session
        config.add_request_method(dbsession, reify=True)
        config.add_request_method(request_user, "user", reify=True)
        config.add_view(document_view, context=Doc, permission="view",
                        renderer=str(templates / "document.jinja2"))
        config.add_view(login_view, context=Root, name="login", request_method="POST",
                        permission="login")
    return config.make_wsgi_app()


def build(db, documents):
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    rng = random.Random(7)
    start = datetime(2024, 1, 1)
    with engine.begin() as conn:
        conn.execute(User.__table__.insert(), [{"id": 1, "login": USER,
                                                "fullname": "Reader"}])
        rows = [{"id": n, "name": f"d{n}", "title": f"Document {n}",
                 "state": rng.choice(("pending", "sent", "signed")),
                 "description": "A document of the thin reference app.", "owner_id": 1,
                 "created": start + timedelta(minutes=n),
                 "modified": start + timedelta(minutes=n + 5)}
                for n in range(1, documents + 1)]
        conn.execute(Doc.__table__.insert(), rows)
    engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", metavar="DB", help="create DB and exit")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--db")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6551)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    if args.build:
        build(args.build, args.documents)
        return 0
    import waitress
    waitress.serve(make_app(args.db), host=args.host, port=args.port, threads=args.threads,
                   _quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
