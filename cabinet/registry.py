"""The national person registry (IPersonRegistry): who holds a matricule.

Chosen by the ``cabinet.registry`` setting:

* ``csv`` (development, the default): ``CsvPersonRegistry`` reads fictitious people
  from ``cabinet.registry.csv`` (default: the file shipped as cabinet/data/registry.csv);
* ``http`` (production): ``HttpPersonRegistry`` asks ``cabinet.registry.url``, a URL
  template with ``{matricule}`` answering JSON ``{matricule, first_name, last_name,
  birth_date: "YYYY-MM-DD", address}``, 404 when nobody holds the number;
  ``cabinet.registry.timeout`` (seconds, default 5), optional
  ``cabinet.registry.token`` (sent as ``Authorization: Bearer``).
  Anything else (5xx, timeout, refused connection, a malformed answer) raises
  ``RegistryUnavailable``.

A dotted name may also be given, like ``cabinet.clock``: a factory taking the settings.
``lookup`` validates the number first (cabinet.matricule.InvalidMatricule).
"""
import csv
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from importlib import resources

from pyramid.path import DottedNameResolver
from zope.interface import implementer

from cabinet.interfaces import IPersonRegistry
from cabinet.matricule import InvalidMatricule, check_matricule

log = logging.getLogger(__name__)

FIELDS = ("matricule", "first_name", "last_name", "birth_date", "address")


class RegistryUnavailable(Exception):
    """The registry cannot be reached or answered nonsense; try again later."""

    message = "Le registre national des personnes est momentanément indisponible."


def _person(record, source):
    """The interface's dict from a CSV row or a JSON object; ValueError when malformed."""
    if not isinstance(record, dict):
        raise ValueError(f"{source}: not an object")
    missing = [f for f in FIELDS if not isinstance(record.get(f), str) or
               not record[f].strip()]
    if missing:
        raise ValueError(f"{source}: missing {', '.join(missing)}")
    try:
        born = date.fromisoformat(record["birth_date"].strip())
        matricule = check_matricule(record["matricule"])
    except (ValueError, InvalidMatricule) as exc:
        raise ValueError(f"{source}: {exc}") from exc
    return {"matricule": matricule, "first_name": record["first_name"].strip(),
            "last_name": record["last_name"].strip(), "birth_date": born,
            "address": record["address"].strip()}


@implementer(IPersonRegistry)
class CsvPersonRegistry:
    """Fictitious people from a CSV file (header: matricule, first_name, last_name,
    birth_date, address); loaded once, checked on load."""

    def __init__(self, settings=None):
        path = (settings or {}).get("cabinet.registry.csv")
        if path:
            with open(path, encoding="utf-8", newline="") as handle:
                text = handle.read()
        else:
            text = resources.files("cabinet").joinpath("data", "registry.csv").read_text(
                encoding="utf-8")
        self.people = {}
        for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
            person = _person(row, f"registry CSV line {line}")
            self.people[person["matricule"]] = person

    def lookup(self, matricule):
        person = self.people.get(check_matricule(matricule))
        return dict(person) if person else None


@implementer(IPersonRegistry)
class HttpPersonRegistry:
    def __init__(self, settings=None):
        settings = settings or {}
        self.url = settings.get("cabinet.registry.url")
        if not self.url or "{matricule}" not in self.url:
            raise ValueError("setting 'cabinet.registry.url' is required and must contain "
                             "'{matricule}'")
        self.timeout = float(settings.get("cabinet.registry.timeout", 5))
        self.token = settings.get("cabinet.registry.token") or None

    def lookup(self, matricule):
        matricule = check_matricule(matricule)
        url = self.url.format(matricule=urllib.parse.quote(matricule))
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return None
            log.warning("person registry answered %s for a look-up", exc.code)
            raise RegistryUnavailable(f"registry answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as exc:
            log.warning("person registry unreachable: %s", exc)
            raise RegistryUnavailable(f"registry unreachable: {exc}") from exc
        try:
            person = _person(json.loads(body), "registry answer")
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("person registry answered nonsense: %s", exc)
            raise RegistryUnavailable(f"malformed registry answer: {exc}") from exc
        if person["matricule"] != matricule:
            raise RegistryUnavailable("the registry answered for another matricule")
        return person


IMPLEMENTATIONS = {"csv": CsvPersonRegistry, "http": HttpPersonRegistry}


def registry_from_settings(settings):
    name = (settings.get("cabinet.registry") or "csv").strip()
    factory = IMPLEMENTATIONS.get(name) or DottedNameResolver().maybe_resolve(name)
    return factory(settings)


def get_person_registry(request):
    return request.registry.getUtility(IPersonRegistry)


def includeme(config):
    config.registry.registerUtility(registry_from_settings(config.get_settings()),
                                    IPersonRegistry)
