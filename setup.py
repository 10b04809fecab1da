import os

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))


def data_files(*folders):
    """Ship workflows/, templates/ and static/ with the wheel so an installed app runs."""
    out = []
    for folder in folders:
        for dirpath, _dirs, files in os.walk(os.path.join(here, folder)):
            rel = os.path.relpath(dirpath, here)
            if files:
                out.append((os.path.join("share", "cabinet", rel),
                            [os.path.join(rel, f) for f in files]))
    return out


requires = [
    "pyramid>=2.0",
    "pyramid_tm",
    "pyramid_retry",
    "pyramid_jinja2",
    "transaction",
    "zope.sqlalchemy>=3.0",
    "zope.interface",
    "SQLAlchemy>=2.0",
    "psycopg[binary]>=3.1",
    "alembic",
    "colander",
    "deform",
    "waitress",
    "argon2-cffi",
    "PyYAML",
    "limits",
    "pyramid_mailer",  # cabinet/mail.py: transactional mail (SMTP, .eml files in development)
    "phonenumbers",  # cabinet/patient_login.py: phone numbers of LU, FR, BE, DE (A3)
    "pyHanko",  # cabinet/signed_pdf.py: PAdES signature of signed PDFs (C4); brings cryptography
    "cryptography",  # cabinet/signed_pdf.py: each cabinet's key and self-signed certificate
    # issue #5: FHIR R4 Questionnaire / QuestionnaireResponse validation (R4B models)
    "fhir.resources>=8.3,<9",
    "icalendar>=6",  # issue #9 (P1): .ics of an appointment and the private calendar feed
    "Babel",  # issue #10 (A4): message catalogs (pybabel extract / compile, make catalogs)
]

tests_require = ["pytest", "webtest", "hypothesis", "pytest-xdist",
                 "aiosmtpd",     # tests/smtp.py: a real SMTP server receiving the mail sent
                 "playwright",   # tests/browser: drives Debian's chromium (no download)
                 "schemathesis"]  # tests/security/test_fuzz_openapi.py

setup(
    name="cabinet",
    version="0.1.0",
    description="Content and workflow server for medical and dental practices",
    packages=find_packages(exclude=["tests", "tests.*", "bench"]),
    include_package_data=True,
    package_data={"cabinet": ["alembic/*.py", "alembic/*.mako", "alembic/versions/*.py",
                              "alembic.ini",
                              # data/registry.csv: the development person registry
                              "data/*.csv",
                              # issue #10 (A4): the message catalogs (make catalogs)
                              "locale/*.pot", "locale/*/LC_MESSAGES/*.po",
                              "locale/*/LC_MESSAGES/*.mo"]},
    data_files=data_files("workflows", "templates", "static"),
    zip_safe=False,
    python_requires=">=3.11",
    install_requires=requires,
    extras_require={"testing": tests_require},
    entry_points={
        "paste.app_factory": ["main = cabinet:main"],
        "console_scripts": [
            "initialize_cabinet_db = cabinet.scripts.initialize_db:main",
            "cabinet_blob_gc = cabinet.blobs:gc_main",  # issue #4: blob orphans
            "cabinet_audit_verify = cabinet.audit:verify_main",  # issue #6: the audit chain
            "cabinet_worker = cabinet.worker:main",  # issue #5: scheduled jobs
        ],
    },
)
