"""Forms of financial reports: the manager's report (contract, period, amounts in yuan, note), an
attachment, and finance's decision."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.finreports.models import CATEGORIES
from portal.finreports.services import COMMENT_LIMIT, NOTE_LIMIT

CATEGORY_LABELS = {"staff": _l("Staff costs"), "travel": _l("Travel costs"), "materials": _l("Materials"),
                   "management": _l("Management costs"), "other": _l("Other costs")}
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted (status)"), "returned": _l("Returned for correction"),
                 "accepted": _l("Accepted")}
if set(CATEGORY_LABELS) != set(CATEGORIES):  # checked on import, also under python -O (an assert would not be)
    raise RuntimeError("every financial report category needs its label")
# what a decision of finance (services.review) made of the report, as its history shows it
# an attachment's type (judged from its content, portal/files) as the pages name it
FILE_TYPE_LABELS = {"application/pdf": _l("PDF"), "image/jpeg": _l("JPEG image"), "image/png": _l("PNG image")}
DECISION_LABELS = {"accept": STATUS_LABELS["accepted"], "return": STATUS_LABELS["returned"]}


class AmountsForm(FlaskForm):
    """The amounts (yuan, e.g. 1,234.56) and the note; the edit form of a draft or returned report."""
    amount_staff = StringField(_l("Staff costs (yuan)"), validators=[Length(max=24)])
    amount_travel = StringField(_l("Travel costs (yuan)"), validators=[Length(max=24)])
    amount_materials = StringField(_l("Materials (yuan)"), validators=[Length(max=24)])
    amount_management = StringField(_l("Management costs (yuan)"), validators=[Length(max=24)])
    amount_other = StringField(_l("Other costs (yuan)"), validators=[Length(max=24)])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=NOTE_LIMIT)])

    def raw_amounts(self):
        return {category: getattr(self, f"amount_{category}").data for category in CATEGORIES}


class NewReportForm(AmountsForm):
    contract = SelectField(_l("Contract"), validate_choice=False)
    period = StringField(_l("Period (YYYY-MM for a month, YYYY for a year)"), validators=[Length(max=7)])


class AttachmentForm(FlaskForm):
    file = FileField(_l("Attachment (PDF, JPEG or PNG, at most 20 MB)"))


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("accept", _l("Accept the report")),
                                                   SelectChoice("return", _l("Return it for correction"))],
                          validate_choice=False)
    comment = TextAreaField(_l("Comment (required when returning)"), validators=[Length(max=COMMENT_LIMIT)])
