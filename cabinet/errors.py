"""HTTP errors that carry a machine-readable ``type`` and extra JSON fields.

Views raise these; cabinet.views.errors renders them as JSON
(``{"type": ..., "message": ...}``) or as an HTML page, by the Accept header.
"""
from pyramid import httpexceptions as exc


def _error(cls, message, type_=None, **extra):
    error = cls(detail=message)
    error.error_type = type_ or cls.__name__.removeprefix("HTTP")
    error.extra = extra
    return error


def bad_request(message, **extra):
    return _error(exc.HTTPBadRequest, message, "BadRequest", **extra)


def forbidden(message="Vous n'avez pas le droit de faire cela.", **extra):
    return _error(exc.HTTPForbidden, message, "Forbidden", **extra)


def not_found(message="Il n'y a rien ici.", **extra):
    return _error(exc.HTTPNotFound, message, "NotFound", **extra)


def conflict(message, **extra):
    return _error(exc.HTTPConflict, message, "Conflict", **extra)


def unprocessable(message, errors=None, **extra):
    if errors:
        extra["errors"] = errors
    return _error(exc.HTTPUnprocessableEntity, message, "ValidationError", **extra)


def too_many(message, **extra):
    return _error(exc.HTTPTooManyRequests, message, "TooManyRequests", **extra)


def unauthorized(message, **extra):
    return _error(exc.HTTPUnauthorized, message, "Unauthorized", **extra)
