"""What a client sends to messaging (issue #9, P3; K3): the fields and optional file
of a JSON, multipart or form body, read within the upload limit (an oversized body is
refused before it is read, then the CSRF token of a cookie session is checked:
cabinet.documents.read_body_within_limit), texts without control characters, and files
recognised from their bytes (JPEG, PNG, PDF without active content; 422 otherwise)."""
import re
from dataclasses import dataclass

from cabinet.documents import (
    CHUNK, EMPTY, UploadRefused, active_content, clean_file_name, read_body_within_limit,
    sniff, too_large,
)
from cabinet.i18n import N_, _
from cabinet.interfaces import IBlobStorage

MAX_TEXT = 5000
MAX_TITLE = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WRONG_TYPE = N_("Type de fichier refusé : seuls les images JPEG et PNG et les PDF sont "
                "acceptés (reconnus à leur contenu, pas à leur nom).")
ACTIVE_PDF = N_("Ce PDF contient du contenu actif (JavaScript, lancement de programme ou "
                "page web) : il ne peut pas être envoyé.")
TOO_LONG = N_("Le message dépasse ${limit} caractères.")
TITLE_TOO_LONG = N_("Le titre dépasse ${limit} caractères.")
NOT_TEXT = N_("Ce champ doit être un texte.")


@dataclass
class Input:
    fields: dict
    data: bytes | None = None
    file_name: str = ""


def _refuse(status, message, field="file", **extra):
    return UploadRefused(status, message, field=field, **extra)


def read_input(request):
    """The fields and the optional file of a JSON or multipart (or form) body."""
    limit = read_body_within_limit(request)
    if request.content_type == "application/json":
        from cabinet.views.base import json_body
        return Input(json_body(request))
    fields = {k: v for k, v in request.POST.items() if isinstance(v, str)}
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        return Input(fields)
    parts, total = [], 0
    while chunk := upload.file.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        parts.append(chunk)
    data = b"".join(parts)
    if not data and not upload.filename:
        return Input(fields)            # the form's empty file input
    if not data:
        raise _refuse(422, _(EMPTY))
    return Input(fields, data, upload.filename or "")


def clean_text(value, field="text", limit=MAX_TEXT, message=TOO_LONG):
    """``value`` without control characters, or 422; ``message``: a msgid whose
    ``${limit}`` is ``limit``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(422, _(NOT_TEXT), field=field)
    value = _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    if len(value) > limit:
        raise _refuse(422, _(message, mapping={"limit": limit}), field=field)
    return value


def check_attachment(data, file_name):
    """(content type, clean file name) of an accepted file, or 422."""
    content_type = sniff(data)
    if content_type is None:
        raise _refuse(422, WRONG_TYPE, accepted=["application/pdf", "image/jpeg",
                                                  "image/png"])
    if content_type == "application/pdf" and active_content(data):
        raise _refuse(422, ACTIVE_PDF)
    return content_type, clean_file_name(file_name, content_type)


def store_attachment(request, target, data, file_name):
    content_type, name = check_attachment(data, file_name)
    target.blob_sha256 = request.registry.getUtility(IBlobStorage).store(data, request.tm)
    target.size, target.content_type, target.file_name = len(data), content_type, name


def copy_attachment(source, target):
    for column in ("blob_sha256", "size", "content_type", "file_name"):
        setattr(target, column, getattr(source, column))


