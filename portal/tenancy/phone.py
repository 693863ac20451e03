"""The bureau's public telephone number (the ``public_phone`` setting): a Chinese landline with
its area code (0771-5234567, 010-62345678), a mobile number (13800138000) or a service hotline
(12345, 12349, 96xxx, 400/800 numbers). Kept as typed after tidying its separators; ``tel_uri``
gives the tap-to-call link."""
import re

SEPARATORS = re.compile(r"[\s\-—–()（）]+")
LANDLINE = re.compile(r"^(0(?:10|2\d|[3-9]\d{2}))([2-9]\d{6,7})$")  # area code, local number
MOBILE = re.compile(r"^1[3-9]\d{9}$")
HOTLINE = re.compile(r"^(?:1\d{4}|9\d{4,5})$")  # 12345, 12349, 96xxx
FREEPHONE = re.compile(r"^([48]00)(\d{3})(\d{4})$")
PHONE_MAX = 20


def normalise_phone(text):
    """The number in its shown form (0771-5234567, 13800138000, 12345, 400-123-4567), or None
    when ``text`` is not one of these. A leading +86 or 0086 is dropped; what follows it is a
    mobile number (1[3-9] and 11 digits) or an area code without its 0 (10, 2x, 3xx–9xx), as in
    +86 10 6512 3456 → 010-65123456."""
    digits = SEPARATORS.sub("", (text or "").strip())
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            if not MOBILE.match(digits) and not digits.startswith("0"):
                digits = "0" + digits
    if not digits.isdigit() or len(digits) > PHONE_MAX:
        return None
    if landline := LANDLINE.match(digits):
        return f"{landline.group(1)}-{landline.group(2)}"
    if MOBILE.match(digits) or HOTLINE.match(digits):
        return digits
    if freephone := FREEPHONE.match(digits):
        return "-".join(freephone.groups())
    return None


def tel_uri(number):
    """``tel:`` link of a shown number: its digits only (dialled as is within China)."""
    return "tel:" + re.sub(r"\D", "", number or "")
