"""Validation of Chinese identifiers with python-stdnum, explained in words people understand:
which part of the number is wrong."""
from datetime import date

from flask_babel import gettext as _
from stdnum import exceptions, numdb
from stdnum.cn import ric, uscc

from portal.core.errors import DomainError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class InvalidIdentifier(DomainError):
    pass


def validate_credit_code(value):
    """A unified social credit code (统一社会信用代码): 18 characters, check digit last.
    Returns the normalised code or raises InvalidIdentifier naming the wrong part."""
    code = (value or "").strip().upper().replace(" ", "")
    if len(code) != 18:
        raise InvalidIdentifier(_("A unified social credit code has 18 characters; this one has %(n)s.", n=len(code)))
    for position, char in enumerate(code, start=1):
        if char not in USCC_ALPHABET:
            raise InvalidIdentifier(_("Character %(pos)s (%(char)s) cannot appear in a unified social credit code "
                                      "(digits and capital letters except I, O, S, V, Z).", pos=position, char=char))
    if not code[:2].isdigit():
        raise InvalidIdentifier(_("Characters 1–2 of the code (the registering authority and the kind of "
                                  "organisation) must be digits."))
    if not code[2:8].isdigit():
        raise InvalidIdentifier(_("Characters 3–8 of the code are the region code and must be digits."))
    try:
        return uscc.validate(code)
    except exceptions.InvalidChecksum:
        raise InvalidIdentifier(_("The last character (the check digit) does not match the first 17; "
                                  "the code was probably mistyped.")) from None
    except exceptions.ValidationError:
        raise InvalidIdentifier(_("This is not a valid unified social credit code.")) from None


def birth_date(number):
    """The date of birth inside a resident ID number (digits 7–14), as stdnum reads it; raises
    stdnum's ValidationError when it is no real date."""
    return ric.get_birth_date(number)


def age_on(number, day):
    """The age in whole years on ``day`` of the holder of a (validated) resident ID number."""
    born = birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate_id_number(value):
    """A resident ID number (居民身份证号码): 18 characters, birth date inside, check digit last."""
    number = (value or "").strip().upper().replace(" ", "")
    if len(number) != 18:
        raise InvalidIdentifier(_("A resident ID number has 18 characters; this one has %(n)s.", n=len(number)))
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier(_("A resident ID number is 17 digits followed by a digit or X."))
    try:
        born = birth_date(number)
    except exceptions.ValidationError:
        born = None
    if born is None or born > date.today():
        raise InvalidIdentifier(_("Digits 7–14 must be a real date of birth (YYYYMMDD); %(d)s is not.",
                                  d=number[6:14])) from None
    if not region_ever_existed(number[:6]):
        raise InvalidIdentifier(_("Digits 1–6 (%(r)s) must be the code of a region that issued ID numbers "
                                  "at some time.", r=number[:6]))
    if number[17] != ric.calc_check_digit(number):
        raise InvalidIdentifier(_("The last character (the check digit) does not match the first 17 digits; "
                                  "the number was probably mistyped."))
    return number


def region_ever_existed(code):
    """Is ``code`` a county-level region code that was in force at any time (python-stdnum's
    table, with its historical codes)? GB 11643-1999 keeps the code in force when the number was
    assigned, which may be years after the birth (late registrations of elderly people) or a code
    abolished since, so the birth year says nothing about which codes are lawful."""
    if len(code) != 6 or code.endswith("00"):  # a province or prefecture as a whole issues no numbers
        return False
    results = numdb.get("cn/loc").info(code)
    return any("county" in props for _part, props in results)
