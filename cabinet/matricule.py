"""The Luxembourg national identification number ("matricule"), 13 digits:

    YYYYMMDD  birth date
    NNN       serial number
    L         Luhn check digit of the first 11 digits
    V         Verhoeff check digit of the first 11 digits

``check_matricule`` normalises (spaces removed) and says which part is wrong;
``make_matricule`` builds a valid one (fixtures, demo data).
"""
from datetime import date

LENGTH = 13

# Verhoeff: multiplication in the dihedral group D5, permutation, inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

MESSAGES = {
    "empty": "Le matricule est vide.",
    "characters": "Le matricule ne doit contenir que des chiffres (espaces permis).",
    "length": "Le matricule doit compter 13 chiffres ({count} saisis).",
    "birth_date": "Les 8 premiers chiffres du matricule ({value}) ne forment pas une date "
                  "de naissance valide (AAAAMMJJ).",
    "luhn": "Le 12e chiffre du matricule (clé de Luhn) est faux : le numéro a "
            "probablement été mal recopié.",
    "verhoeff": "Le 13e chiffre du matricule (clé de Verhoeff) est faux : le numéro a "
                "probablement été mal recopié.",
}


class InvalidMatricule(ValueError):
    """``.part``: empty, characters, length, birth_date, luhn or verhoeff;
    ``.message``: what is wrong, in French, for the person who typed it."""

    def __init__(self, part, **values):
        self.part = part
        self.message = MESSAGES[part].format(**values)
        super().__init__(self.message)


def luhn_digit(digits):
    """The Luhn check digit to append to ``digits`` (a string of digits)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the check digit will stand to its right
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def verhoeff_digit(digits):
    """The Verhoeff check digit to append to ``digits``."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[(position + 1) % 8][int(char)]]
    return str(_INV[check])


def normalise(value):
    return "".join(str(value or "").split())


def check_matricule(value):
    """Return the 13 digits of ``value`` without spaces; raise InvalidMatricule
    saying which part is wrong."""
    digits = normalise(value)
    if not digits:
        raise InvalidMatricule("empty")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidMatricule("characters")
    if len(digits) != LENGTH:
        raise InvalidMatricule("length", count=len(digits))
    if birth_date_of(digits) is None:
        raise InvalidMatricule("birth_date", value=digits[:8])
    if digits[11] != luhn_digit(digits[:11]):
        raise InvalidMatricule("luhn")
    if digits[12] != verhoeff_digit(digits[:11]):
        raise InvalidMatricule("verhoeff")
    return digits


def birth_date_of(digits):
    """The birth date encoded in the first 8 digits, or None."""
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return born if born.year >= 1850 else None


def is_valid(value):
    try:
        check_matricule(value)
    except InvalidMatricule:
        return False
    return True


def make_matricule(birth_date, serial):
    """A valid matricule for ``birth_date`` (a date) and ``serial`` (0-999)."""
    if not 0 <= int(serial) <= 999:
        raise ValueError("serial must be between 0 and 999")
    head = f"{birth_date:%Y%m%d}{int(serial):03d}"
    return head + luhn_digit(head) + verhoeff_digit(head)


def format_matricule(value):
    """``YYYY MMDD NNN LV`` for display."""
    digits = normalise(value)
    return f"{digits[:4]} {digits[4:8]} {digits[8:11]} {digits[11:]}" if len(digits) == 13 \
        else digits
