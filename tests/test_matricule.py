"""The Luxembourg matricule: 13 digits, birth date, serial, Luhn and Verhoeff keys."""
from datetime import date

import pytest

from cabinet.matricule import (
    InvalidMatricule, birth_date_of, check_matricule, format_matricule, is_valid,
    luhn_digit, make_matricule, verhoeff_digit,
)

# Computed by hand with the two algorithms on the first 11 digits.
KNOWN_GOOD = ["1985041212393", "1990010100160"]


def test_check_digit_algorithms_match_published_vectors():
    assert luhn_digit("7992739871") == "3"
    assert luhn_digit("1789372997") == "4"
    assert verhoeff_digit("236") == "3"
    assert verhoeff_digit("12345") == "1"


@pytest.mark.parametrize("value", KNOWN_GOOD)
def test_known_good_numbers(value):
    assert check_matricule(value) == value
    assert is_valid(value)


def test_spaces_are_removed():
    assert check_matricule(" 1985 0412 123 93 ") == "1985041212393"
    assert format_matricule("1985041212393") == "1985 0412 123 93"


def test_make_matricule_builds_valid_numbers():
    value = make_matricule(date(1985, 4, 12), 123)
    assert value == "1985041212393"
    assert birth_date_of(value) == date(1985, 4, 12)
    for serial in (0, 7, 500, 999):
        assert is_valid(make_matricule(date(2000, 2, 29), serial))
    with pytest.raises(ValueError):
        make_matricule(date(2000, 1, 1), 1000)


@pytest.mark.parametrize("value, part, words", [
    ("", "empty", "vide"),
    ("   ", "empty", "vide"),
    ("1985-0412-12393", "characters", "chiffres"),
    ("19850412123a3", "characters", "chiffres"),
    ("１９８５０４１２１２３９３", "characters", "chiffres"),  # full-width digits
    ("198504121239", "length", "13 chiffres (12 saisis)"),
    ("19850412123930", "length", "13 chiffres (14 saisis)"),
    ("1985130112393", "birth_date", "19851301"),   # month 13
    ("1985023012393", "birth_date", "date de naissance"),  # 30 February
    ("1700010112393", "birth_date", "date de naissance"),
    ("1985041212383", "luhn", "12e chiffre"),
    ("1985041212394", "verhoeff", "13e chiffre"),
])
def test_each_kind_of_error_says_which_part(value, part, words):
    with pytest.raises(InvalidMatricule) as caught:
        check_matricule(value)
    assert caught.value.part == part
    assert words in caught.value.message
    assert not is_valid(value)


def test_swapped_digits_are_caught():
    good = "1985041212393"
    swapped = good[:8] + good[9] + good[8] + good[10:]  # serial 213 instead of 123
    with pytest.raises(InvalidMatricule) as caught:
        check_matricule(swapped)
    assert caught.value.part in ("luhn", "verhoeff")


def test_every_single_digit_typo_in_the_serial_is_caught():
    good = make_matricule(date(1977, 11, 3), 456)
    for position in range(8, 13):
        for digit in "0123456789":
            if digit != good[position]:
                assert not is_valid(good[:position] + digit + good[position + 1:])
