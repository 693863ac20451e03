"""Unified social credit codes and resident ID numbers: valid ones pass, and each invalid one is
refused with a message that names the part that is wrong."""
import pytest
from stdnum.cn import ric, uscc

from portal.core.identity import InvalidIdentifier, validate_credit_code, validate_id_number


def with_id_check(first17):
    return first17 + ric.calc_check_digit(first17 + "0")


def with_code_check(first17):
    return first17 + uscc.calc_check_digit(first17)


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


@pytest.mark.parametrize("code", ["52360721MJ0000012X", "91360721MA3500003X", "52360702MJ0000023H",
                                  "91350100M000100Y43", " 91360721ma3500003x "])
def test_valid_credit_codes_pass_and_are_normalised(english, code):
    assert validate_credit_code(code) == code.strip().upper()


@pytest.mark.parametrize("code, part", [
    ("91360721MA350000", "18 characters; this one has 16"),            # length
    ("91360721MI3500003X", "Character 10 (I)"),                         # a letter the code never uses
    ("A1360721MA3500003X", "Characters 1–2"),                           # authority and kind not digits
    ("9136A721MA3500003X", "Characters 3–8 of the code are the region code"),  # region not digits
    ("91360721MA35000031", "check digit"),                              # mistyped: check digit differs
])
def test_invalid_credit_codes_name_the_wrong_part(english, code, part):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_credit_code(code)
    assert part in caught.value.message


def test_a_valid_code_with_one_character_changed_is_caught_by_the_check_digit(english):
    code = with_code_check("91360721MA3500003")
    validate_credit_code(code)
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_credit_code(code[:9] + "B" + code[10:])


@pytest.mark.parametrize("number", ["360721200003150425", "360721199907082132", "360731200111220649",
                                    "11010519491231002X", "11010519491231002x"])
def test_valid_id_numbers_pass(english, number):
    assert validate_id_number(number) == number.upper()


@pytest.mark.parametrize("number, part", [
    ("36072120000315042", "18 characters; this one has 17"),                       # length
    ("3607212000031504A5", "17 digits followed by a digit or X"),                  # bad character
    (with_id_check("99999920000315042"), "Digits 1–6 (999999)"),                   # unknown region
    (with_id_check("36079919450315042"), "Digits 1–6 (360799)"),                   # never a county code
    (with_id_check("36000019450315042"), "Digits 1–6 (360000)"),                   # a province as a whole
    (with_id_check("36070019450315042"), "Digits 1–6 (360700)"),                   # a prefecture as a whole
    (with_id_check("36072120000230042"), "20000230"),                              # 30 February
    (with_id_check("36072120991231042"), "20991231"),                              # born in the future
    ("360721200003150426", "check digit"),                                         # mistyped
    ("360721²00003150426", "17 digits followed by a digit or X"),                  # "²".isdigit(), int("²") fails
])
def test_invalid_id_numbers_name_the_wrong_part(english, number, part):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_id_number(number)
    assert part in caught.value.message



def test_a_region_code_assigned_after_the_birth_year_is_accepted(english):
    """GB 11643-1999: the code is the one in force when the number was assigned. 360721 (赣县,
    1998–2016) on someone born in 1945, registered late, is a lawful number."""
    number = with_id_check("36072119450315042")
    assert validate_id_number(number) == number


def test_an_abolished_region_code_is_still_accepted_but_the_check_digit_is_not_skipped(english):
    number = with_id_check("11010320150601001")      # 崇文区, abolished in 2010
    assert validate_id_number(number) == number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_id_number(wrong)
