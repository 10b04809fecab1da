"""Outermost tween: refuse undecodable or NUL-carrying requests up front, and put the
security headers on every response."""
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


NUL_MARKERS = (b"\x00", b"%00", b"\\u0000")


def has_nul(request):
    """PostgreSQL text cannot hold NUL: a request carrying one is refused up front
    rather than failing deep down (file uploads are exempt)."""
    if "\x00" in request.environ.get("PATH_INFO", "") or "%00" in request.query_string:
        return True
    content_type = request.content_type or ""
    if content_type in ("application/json", "application/x-www-form-urlencoded"):
        body = request.body
        return any(marker in body for marker in NUL_MARKERS)
    return False


def refuse(request, error_response, message):
    """A 400 answered here, above pyramid_tm: the error page looks up the signed-in
    user, so it is rendered in a (read-only) transaction of its own."""
    with request.tm:
        return error_response(request, 400, "BadRequest", message)


def security_headers_tween_factory(handler, registry):
    # HSTS only where Cabinet is served over https (production.ini sets it)
    hsts = (registry.settings.get("cabinet.hsts") or "").strip()

    def tween(request):
        from cabinet.views.errors import error_response
        try:
            request.path_info  # noqa: B018 - undecodable paths are refused here
            request.GET  # noqa: B018 - and so are undecodable query strings
        except UnicodeDecodeError:
            request.environ["PATH_INFO"] = "/"
            request.environ["QUERY_STRING"] = ""
            response = refuse(request, error_response, "The address is not valid UTF-8.")
        else:
            if has_nul(request):
                response = refuse(request, error_response,
                                  "The request contains a NUL character.")
            else:
                response = handler(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        if hsts:
            headers["Strict-Transport-Security"] = hsts
        if not request.path_info.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        return response
    return tween


def includeme(config):
    config.add_tween("cabinet.tweens.security_headers_tween_factory")
