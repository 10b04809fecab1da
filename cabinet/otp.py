"""One-time codes sent by SMS: ``config.registry["one_time_codes"]``.

A code is 6 digits from ``secrets``, stored as HMAC-SHA256 (key: the session secret,
message: a per-code salt and the code), compared with ``hmac.compare_digest``. It is
bound to its purpose (``login``, ``sign``), to its object (a node, or a login
challenge) and to the user and phone it was sent to; it is used once, expires after
``cabinet.otp.minutes`` (10) by the IClock, and dies after ``cabinet.otp.tries`` (5)
wrong tries. Asking again for a code of the same binding replaces the previous one
(a "resend"), at most once a minute and 5 times an hour (counted in
``one_time_code_sends`` with the clock).

Wrong tries are counted in a transaction of their own, committed at once: the
request that typed a wrong code fails and rolls back, its try must stay counted.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update

from cabinet import audit, errors
from cabinet.i18n import N_, _, language_of, translate
from cabinet.interfaces import IClock, IRateLimiter
from cabinet.models import OneTimeCode, OneTimeCodeSend
from cabinet.sms import mask_phone, send_sms

DIGITS = 6
MISSING = N_("Saisissez le code à 6 chiffres reçu par SMS.")
WRONG = N_("Code incorrect : il vous reste ${left} essai(s).")
DEAD = N_("Ce code a été saisi trop de fois de manière incorrecte : demandez un nouveau "
          "code.")
EXPIRED = N_("Ce code a expiré : demandez un nouveau code.")
UNKNOWN = N_("Aucun code valable n'a été demandé : demandez un code.")
USED = N_("Ce code a déjà été utilisé : demandez un nouveau code.")
TOO_SOON = N_("Un code vient d'être envoyé : attendez une minute avant d'en demander un autre.")
TOO_MANY = N_("Trop de codes demandés en une heure : réessayez plus tard "
              "(au plus ${limit} par heure).")
TOO_MANY_SMS = N_("Trop de codes envoyés par SMS : réessayez plus tard.")
#: the SMS, msgids sent in the recipient's language (cabinet.i18n.language_of)
MESSAGES = {
    "login": N_("Votre code de connexion Cabinet : ${code}. Il expire dans ${minutes} "
                "minutes."),
    "sign": N_("Votre code de signature Cabinet : ${code} (${title}). "
               "Il expire dans ${minutes} minutes."),
    # issue #9, P8: "add a patient" (cabinet.views.add_patient)
    "link": N_("Votre code pour relier votre dossier à un compte Cabinet : ${code}. "
               "Il expire dans ${minutes} minutes."),
}


def challenge_hash(challenge):
    return hashlib.sha256(challenge.encode("utf-8")).hexdigest()


def submitted_code(request):
    """The code the request carries: JSON ``{"code"}`` or the form's ``code`` field."""
    if (request.content_type or "").startswith("application/json"):
        from cabinet.views.base import json_body
        return json_body(request).get("code")
    return request.POST.get("code")


class OneTimeCodes:
    def __init__(self, settings):
        self.secret = settings["cabinet.session_secret"].encode("utf-8")
        self.minutes = int(settings.get("cabinet.otp.minutes", 10))
        self.max_tries = int(settings.get("cabinet.otp.tries", 5))
        self.resend_seconds = int(settings.get("cabinet.otp.resend_seconds", 60))
        self.per_hour = int(settings.get("cabinet.otp.per_hour", 5))

    # -- hashing -------------------------------------------------------------------------

    def hash(self, salt, code):
        return hmac.new(self.secret, f"{salt}:{code}".encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def matches(self, row, code):
        """Constant-time comparison of ``code`` with the stored hash."""
        return hmac.compare_digest(self.hash(row.salt, code), row.code_hash)

    # -- issuing -------------------------------------------------------------------------

    def _send_key(self, purpose, phone, node_id=None, user_id=None, challenge=None):
        bound = f"n{node_id}" if node_id is not None else f"c{challenge_hash(challenge or '')[:16]}"
        return f"{purpose}:{bound}:u{user_id or ''}:{phone}"[:200]

    def check_resend(self, request, key):
        """429 when a code was sent for ``key`` less than a minute ago, or 5 times in
        the last hour (the clock's time)."""
        now = request.registry.getUtility(IClock).now()
        count, last = request.dbsession.execute(
            select(func.count(OneTimeCodeSend.id), func.max(OneTimeCodeSend.sent_at))
            .where(OneTimeCodeSend.key == key,
                   OneTimeCodeSend.sent_at > now - timedelta(hours=1))).one()
        if last is not None and last > now - timedelta(seconds=self.resend_seconds):
            raise errors.too_many(TOO_SOON, retry_after=self.resend_seconds)
        if count >= self.per_hour:
            raise errors.too_many(_(TOO_MANY, mapping={"limit": self.per_hour}))

    def check_sending_caps(self, request, phone):
        """429 past the caps on codes sent to one phone and asked from one address,
        across all bindings (nothing is sent then); else count this one."""
        limiter = request.registry.queryUtility(IRateLimiter)
        if limiter is None:
            return
        address = request.remote_addr or "unknown"
        if not limiter.test("otp.phone", phone) or not limiter.test("otp.address", address):
            raise errors.too_many(TOO_MANY_SMS)
        limiter.hit("otp.phone", phone)
        limiter.hit("otp.address", address)

    def issue(self, request, purpose, phone, *, node=None, user=None, challenge=None,
              details=None, title="", send=True):
        """Create (or replace: a resend) the code of this binding and send it to
        ``phone`` when the transaction commits. Returns the row. ``send=False``: a
        decoy that no code can ever match and no SMS carries (a patient login for
        nobody answers like one for somebody), under the same limits."""
        clock = request.registry.getUtility(IClock)
        now = clock.now()
        node_id = node.id if node is not None else None
        user_id = user.id if user is not None else None
        key = self._send_key(purpose, phone, node_id, user_id, challenge)
        self.check_resend(request, key)
        self.check_sending_caps(request, phone)
        session = request.dbsession
        if challenge is not None:
            row = session.scalar(select(OneTimeCode).where(
                OneTimeCode.challenge_hash == challenge_hash(challenge)))
        else:
            # earlier codes of this binding stop working: only the last one sent counts
            session.execute(update(OneTimeCode).where(
                OneTimeCode.purpose == purpose, OneTimeCode.node_id == node_id,
                OneTimeCode.user_id == user_id, OneTimeCode.used.is_(None))
                .values(used=now).execution_options(synchronize_session=False))
            row = None
        code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
        salt = secrets.token_hex(16)
        if row is None:
            row = OneTimeCode(purpose=purpose, node_id=node_id, user_id=user_id,
                              challenge_hash=challenge_hash(challenge) if challenge else None)
            session.add(row)
        # a decoy's hash is of no 6-digit code: nothing typed can match it
        row.phone, row.salt = phone, salt
        row.code_hash = self.hash(salt, code if send else "decoy")
        row.created, row.expires = now, now + timedelta(minutes=self.minutes)
        row.tries, row.used, row.details = 0, None, details
        session.add(OneTimeCodeSend(key=key, sent_at=now))
        session.flush()
        if send:
            text = translate(request, MESSAGES.get(purpose, MESSAGES["login"]),
                             language_of(request, user),
                             code=code, minutes=self.minutes, title=title[:60])
            send_sms(request, phone, text)
        else:   # the same database work as an SMS: a decoy takes as long (cabinet.outbox)
            send_sms(request, phone, "", decoy=True)
        return row

    # -- checking ------------------------------------------------------------------------

    def _count_wrong_try(self, request, row):
        """+1 try, committed at once in a transaction of its own; the tries left."""
        engine = request.registry["db_engine"]
        with engine.begin() as conn:
            conn.execute(update(OneTimeCode.__table__)
                         .where(OneTimeCode.__table__.c.id == row.id,
                                OneTimeCode.__table__.c.tries < self.max_tries)
                         .values(tries=OneTimeCode.__table__.c.tries + 1))
            tries = conn.scalar(select(OneTimeCode.__table__.c.tries)
                                .where(OneTimeCode.__table__.c.id == row.id))
        return max(0, self.max_tries - (tries or 0))

    def check(self, request, row, code):
        """None when ``code`` is right for ``row`` (which is then used up), else the
        message saying what is wrong. Wrong tries are counted."""
        now = request.registry.getUtility(IClock).now()
        if row is None:
            return UNKNOWN
        if code in (None, ""):
            return MISSING
        refused = ("used" if row.used is not None else "dead" if row.tries >= self.max_tries
                   else "expired" if row.expires <= now else None)
        if refused:
            _audit_failure(request, row, refused)
            return {"used": USED, "dead": DEAD, "expired": EXPIRED}[refused]
        if not isinstance(code, str):
            code = str(code)
        code = code.strip().replace(" ", "")
        if not (len(code) == DIGITS and code.isascii() and code.isdigit()) \
                or not self.matches(row, code):
            left = self._count_wrong_try(request, row)
            _audit_failure(request, row, "wrong", tries_left=left)
            return _(WRONG, mapping={"left": left}) if left else DEAD
        used = request.dbsession.execute(
            update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.used.is_(None),
                                      OneTimeCode.tries < self.max_tries)
            .values(used=now).execution_options(synchronize_session=False))
        if used.rowcount != 1:
            return USED
        row.used = now
        return None

    def current(self, request, purpose, node_id, user_id):
        """The last code issued for this binding, or None."""
        return request.dbsession.scalar(
            select(OneTimeCode).where(OneTimeCode.purpose == purpose,
                                      OneTimeCode.node_id == node_id,
                                      OneTimeCode.user_id == user_id)
            .order_by(OneTimeCode.created.desc(), OneTimeCode.id.desc()).limit(1))

    def by_challenge(self, request, challenge, purpose="login"):
        if not isinstance(challenge, str) or not challenge:
            return None
        return request.dbsession.scalar(select(OneTimeCode).where(
            OneTimeCode.challenge_hash == challenge_hash(challenge),
            OneTimeCode.purpose == purpose))

    def verify(self, request, context, purpose):
        """The workflow guard's check (cabinet.workflow.guards.one_time_code): the code
        the request carries, for ``purpose`` on ``context``, sent to this user."""
        user = request.identity
        if user is None:
            return UNKNOWN
        row = self.current(request, purpose, context.id, user.id)
        return self.check(request, row, submitted_code(request))


def _audit_failure(request, row, outcome, **details):
    """A code refused: the audit trail keeps what it was for, never the code."""
    audit.record(request, "code", outcome=outcome,
                 details={"purpose": row.purpose, "node_id": row.node_id, **details})


def where_sent(row):
    return mask_phone(row.phone)


def includeme(config):
    config.registry["one_time_codes"] = OneTimeCodes(config.get_settings())
