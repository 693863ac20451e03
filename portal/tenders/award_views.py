"""The officer's choice after an upheld challenge (tenders/remedies.py), on the award page."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from portal.core.auth import capability_required
from portal.core.timeutil import local_today, utcnow
from portal.tenders import awards, remedies
from portal.tenders.bid_forms import RemedyForm
from portal.tenders.blueprint import bp


def _remedy_form(challenge):
    form = RemedyForm(prefix=f"c{challenge.id}")
    form.remedy.choices = [SelectChoice(k, remedies.REMEDY_LABELS[k]) for k in remedies.remedy_choices(challenge)]
    return form


def _remedy_notes(challenge):
    """Why a remedy is withheld after an upheld challenge still to be followed: a signed contract
    of the award in force, or too few qualified bids left for the next-ranked bidder."""
    if (challenge.status != "upheld" or not challenge.may_change_result or challenge.remedy
            or challenge.award.status != "active"):
        return []
    blocked = remedies.signed_contract_refusal(challenge.award)
    if blocked:
        return [blocked]
    refusal = remedies.next_ranked_refusal(challenge.award)
    return [refusal] if refusal else []


def remedy_context(award):
    """What the award page shows about challenges and the result's history: each challenge's
    answer due day (7 working days), the remedy forms of upheld challenges, every award of the lot
    (the cancelled ones included) and, for a cancelled award, the award now in force."""
    forms = {c.id: _remedy_form(c) for c in award.challenges if remedies.remedy_choices(c)}
    return {"remedy_forms": forms, "remedy_labels": remedies.REMEDY_LABELS,
            "remedy_notes": {c.id: _remedy_notes(c) for c in award.challenges},
            "answer_due": {c.id: awards.answer_due(c) for c in award.challenges},  # (day, why not)
            "lot_awards": awards.awards_of_lot(award.lot), "award_in_force": awards.award_of_lot(award.lot),
            "today": local_today()}


@bp.route("/challenges/<int:challenge_id>/remedy", methods=["POST"])
@capability_required("evaluation.edit")
def award_challenge_remedy(challenge_id):
    """Re-evaluate, award to the next-ranked bidder or re-tender after an upheld challenge."""
    challenge = awards.get_challenge(challenge_id)
    form = _remedy_form(challenge)
    if not form.validate_on_submit():
        if not form.remedy.choices:
            blocked = remedies.signed_contract_refusal(challenge.award) if challenge.award.status == "active" else ""
            if not blocked:
                abort(409)
            flash(blocked, "error")  # a signed contract first annulled or terminated (94号令 §32(二))
        else:
            flash(_("Choose what follows the upheld challenge."), "error")
        return redirect(url_for("tenders.award_detail", award_id=challenge.award_id))
    new_award = remedies.choose_remedy(challenge, form.remedy.data, utcnow())
    lot = challenge.award.lot
    if new_award is not None:
        flash(_("The award is cancelled; %(name)s is awarded and the corrected result published.",
                name=new_award.contractor.name), "success")
        return redirect(url_for("tenders.award_detail", award_id=new_award.id))
    if form.remedy.data == "re_evaluate":
        flash(_("The award is cancelled and published as such; revise the scores and confirm the winner again."),
              "success")
        return redirect(url_for("tenders.evaluation_scores", lot_id=lot.id))
    flash(_("The award is cancelled and published as such; the lot can now be tendered again."), "success")
    return redirect(url_for("tenders.evaluation_overview", tender_id=lot.tender_id))
