"""Pages for sealed bids (contractor managers), the opening, scoring, ranking, award and
challenges (officers; other bureau roles and auditors read). A second views module on the
``tenders`` blueprint (tenders/blueprint.py). What a page can show of a bid is decided by
the seal (tenders/sealing.py): before the deadline a bureau page finds no bid at all."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.contractors.models import StaffMember
from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.money import parse_yuan
from portal.core.timeutil import local_today, utcnow
from portal.core.xlsx import xlsx_download
from portal.disclosures import disclosures_of
from portal.extensions import db
from portal.files.services import serve
from portal.tenders import awards, bidding, committee, documents, evaluation, score_sheet, services
from portal.tenders.bid_forms import (MEMBER_KIND_LABELS, AnswerForm, BidderChallengeForm, BidForm, ChallengeForm,
                                      ExpertForm, ValidityForm)
from portal.tenders.blueprint import bp
from portal.tenders.models import Tender
from portal.tenders.ranking_export import ranking_workbook


def _tender(tender_id):
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound(_("No such tender."))
    return tender


def _back(endpoint, **values):
    return redirect(url_for(endpoint, **values))


# --- contractor managers: their bids ------------------------------------------------------

@bp.route("/my-bids")
@capability_required("bid.submit")
def my_bids():
    contractor_id = current_user.contractor_id
    bids = bidding.own_bids(contractor_id) if contractor_id else []
    by_lot = {b.lot_id: b for b in bids}
    results = {b.lot_id: awards.award_of_lot(b.lot) for b in bids}
    standings = {b.id: documents.own_standing(b) for b in bids}  # the own score and rank, once published
    return render_template("tenders/bids/mine.html", lots=bidding.open_lots(), bids=bids, by_lot=by_lot,
                           results=results, standings=standings, today=local_today(), now=utcnow())


@bp.route("/awards/<int:award_id>/my-challenge", methods=["GET", "POST"])
@capability_required("bid.submit")
def bidder_challenge(award_id):
    """A bidder reads the award result of a lot it bid on and may challenge it (质疑) during the
    challenge period; its earlier challenges and their answers are listed."""
    award = awards.get_award(award_id)
    mine = awards.own_bid(award, current_user.contractor_id)
    if mine is None:
        abort(404)
    form = BidderChallengeForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                awards.lodge_challenge(award, current_user, form.grounds.data, utcnow())
        except DomainError as refusal:
            show_refusal(form, refusal, default_field="grounds")
            status = 422
        else:
            flash(_("Your challenge is lodged; the bureau answers it in writing."), "success")
            return redirect(url_for("tenders.bidder_challenge", award_id=award.id))
    elif request.method == "POST":
        status = 422
    # the award result as the public read it (the winning bid itself stays sealed to other bidders)
    notices = disclosures_of(award, "award_result")
    contractor = current_user.contractor
    return render_template("tenders/bids/challenge.html", award=award, form=form, notice=notices[-1] if notices else None,
                           challenges=awards.challenges_of(award, contractor.name),
                           standing=documents.own_standing(mine),
                           open_for_challenges=local_today() <= award.challenge_until), status


def _roster_choices(contractor_id):
    members = db.session.execute(
        select(StaffMember).where(StaffMember.contractor_id == contractor_id, StaffMember.left_on.is_(None))
        .order_by(StaffMember.name)).scalars().all() if contractor_id else []
    return [SelectChoice(m.id, f"{m.name} ({m.qualification})" if m.qualification else m.name) for m in members]


def _unit_prices(lot):
    """Unit prices typed per service item (a blank one is missing, and the bid is refused)."""
    typed = {item.code: request.form.get(f"unit_{item.code}", "").strip() for item in lot.items}
    if not any(typed.values()):
        return {}
    try:
        return {code: parse_yuan(text) for code, text in typed.items() if text}
    except ValueError:
        raise DomainError(_("Unit prices are amounts in yuan with at most two decimals.")) from None


@bp.route("/lots/<int:lot_id>/my-bid", methods=["GET", "POST"])
@capability_required("bid.submit")
def bid_form(lot_id):
    lot = bidding.biddable_lot(lot_id)
    contractor_id = current_user.contractor_id
    bid = bidding.own_bid(lot.id, contractor_id) if contractor_id else None
    form = BidForm()
    form.staff.choices = _roster_choices(contractor_id)
    now = utcnow()
    if request.method == "GET" and bid is not None and not bid.withdrawn:
        form.price.data = f"{bid.price_fen // 100}.{bid.price_fen % 100:02d}"
        form.staff.data = list(bid.staff_ids or [])
    status = 200
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                uploaded = bool(form.proposal.data and getattr(form.proposal.data, "filename", ""))
                bid = bidding.submit_bid(lot, current_user, price_fen=parse_yuan(form.price.data),
                                         staff_ids=form.staff.data or [], unit_prices_fen=_unit_prices(lot), now=now,
                                         proposal_required=not uploaded)
                if uploaded:
                    bidding.attach_proposal(lot, current_user, form.proposal.data, now=now)
        except DomainError as exc:
            show_refusal(form, exc, aliases={"price_fen": "price", "staff_ids": "staff"})
            flash(exc.message, "error")
            for message in (exc.errors or {}).get("unit_prices_fen", []):
                flash(str(message), "error")  # no single field of the form holds the unit prices
            status = 422
        else:
            flash(_("Your sealed bid is saved. You may change or withdraw it until the deadline."), "success")
            return _back("tenders.bid_form", lot_id=lot.id)
    elif request.method == "POST":
        status = 422
    refusal = bidding.bidding_refusal(lot, contractor_id, now) if contractor_id else _(
        "Register your organisation first.")
    return render_template("tenders/bids/form.html", lot=lot, tender=lot.tender, bid=bid, form=form,
                           refusal=refusal, confirm=ConfirmForm(), staff_names=bidding.staff_names(bid) if bid else [],
                           unit_values={k: f"{v // 100}.{v % 100:02d}" for k, v in ((bid.unit_prices_fen or {}) if bid else {}).items()}), status


@bp.route("/lots/<int:lot_id>/my-bid/withdraw", methods=["POST"])
@capability_required("bid.submit")
def bid_withdraw(lot_id):
    lot = bidding.biddable_lot(lot_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    bidding.withdraw_bid(lot, current_user, now=utcnow())
    flash(_("Your bid is withdrawn. You may submit a new one until the deadline."), "success")
    return _back("tenders.bid_form", lot_id=lot.id)


@bp.route("/bids/<int:bid_id>/proposal")
@capability_required("bid.proposal.read")
def bid_proposal(bid_id):
    bid = bidding.readable_bid(bid_id)  # the seal: 404 for the bureau before the opening
    if bid.proposal_file is None:
        raise NotFound(_("This bid has no technical proposal."))
    return serve(bid.proposal_file)


# --- bureau: opening, experts, validity, scores, ranking ------------------------------------

@bp.route("/<int:tender_id>/evaluation")
@capability_required("evaluation.read")
def evaluation_overview(tender_id):
    tender = _tender(tender_id)
    lots = [(lot, evaluation.lot_bids(lot), awards.award_of_lot(lot)) for lot in tender.lots]
    return render_template("tenders/evaluation/overview.html", tender=tender, lots=lots, now=utcnow(),
                           confirm=ConfirmForm(), expert_form=ExpertForm(), validity=ValidityForm(),
                           member_kinds=MEMBER_KIND_LABELS, unopened=evaluation.evaluation_unopened(tender),
                           committee_problem=committee.composition_problem(
                               tender.method, list(tender.experts), tender.budget_fen)
                           if tender.status == "evaluation" else None,
                           has_failed=any(lot.status == "failed" for lot in tender.lots),
                           retendered=db.session.execute(select(Tender).where(Tender.retender_of_id == tender.id))
                           .scalar_one_or_none())


@bp.route("/<int:tender_id>/evaluation/open", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_open(tender_id):
    tender = _tender(tender_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.open_bids_now(tender, utcnow())
    flash(_("The bids are open."), "success")
    return _back("tenders.evaluation_overview", tender_id=tender.id)


@bp.route("/<int:tender_id>/evaluation/experts", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_add_expert(tender_id):
    tender = _tender(tender_id)
    form = ExpertForm()
    if not form.validate_on_submit():
        flash(_("Give the expert's name."), "error")
    else:
        member = evaluation.add_expert(tender, form.name.data, form.organisation.data, form.kind.data,
                                       form.field.data)
        flash(_("The expert is recorded.") if member.is_expert else
              _("The buyer's representative is recorded."), "success")
    return _back("tenders.evaluation_overview", tender_id=tender.id)


@bp.route("/bids/<int:bid_id>/validity", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_validity(bid_id):
    bid = bidding.readable_bid(bid_id)
    form = ValidityForm()
    if not form.validate_on_submit():
        flash(_("Choose whether the bid is valid or invalid (an invalid bid needs its reason)."), "error")
        return _back("tenders.evaluation_overview", tender_id=bid.lot.tender_id)
    evaluation.decide_validity(bid, form.decision.data == "valid", form.reason.data, utcnow())
    flash(_("The decision is recorded."), "success")
    return _back("tenders.evaluation_overview", tender_id=bid.lot.tender_id)


@bp.route("/lots/<int:lot_id>/scores", methods=["GET", "POST"])
@capability_required("evaluation.read")
def evaluation_scores(lot_id):
    lot = evaluation.evaluation_lot(lot_id)
    tender = lot.tender
    bids = [b for b in evaluation.lot_bids(lot) if b.counts]
    form = ConfirmForm()
    if request.method == "POST":
        if not current_user.can("evaluation.edit"):
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        grid = {(bid.id, expert.id): (request.form.get(f"t-{bid.id}-{expert.id}", ""),
                                      request.form.get(f"b-{bid.id}-{expert.id}", ""))
                for bid in bids for expert in tender.experts}
        try:
            result = score_sheet.enter_score_grid(lot, grid)
        except DomainError as exc:
            flash(exc.message, "error")
            return _back("tenders.evaluation_scores", lot_id=lot.id)
        if result.errors:
            names = {(bid.id, m.id): score_sheet.cell_label(bid, m) for bid in bids for m in tender.experts}
            flash(_("%(saved)s cells saved; these were refused and are not saved: %(cells)s",
                    saved=result.saved, cells=result.message(names)), "error")
            return render_template("tenders/evaluation/scores.html", lot=lot, tender=tender, bids=bids, form=form,
                                   table=evaluation.scores_by_bid(lot), typed=grid, cell_errors=result.errors), 422
        flash(_("The scores are saved."), "success")
        return _back("tenders.evaluation_scores", lot_id=lot.id)
    return render_template("tenders/evaluation/scores.html", lot=lot, tender=tender, bids=bids, form=form,
                           table=evaluation.scores_by_bid(lot), typed={}, cell_errors={})


@bp.route("/lots/<int:lot_id>/ranking")
@capability_required("evaluation.read")
def evaluation_ranking(lot_id):
    lot = evaluation.evaluation_lot(lot_id)
    incomplete = evaluation.ranking_incomplete(lot) if lot.status == "open" else None
    # unscored cells or an unlawful committee: no ranking yet
    return render_template("tenders/evaluation/ranking.html", lot=lot, tender=lot.tender,
                           rows=[] if incomplete else evaluation.ranking(lot), incomplete=incomplete,
                           award=awards.award_of_lot(lot), confirm=ConfirmForm(),
                           rule=awards.award_rule_note() if lot.status == "open" else "")


@bp.route("/lots/<int:lot_id>/ranking.xlsx")
@capability_required("evaluation.ranking.export")
def evaluation_ranking_xlsx(lot_id):
    lot = evaluation.evaluation_lot(lot_id)
    return xlsx_download(ranking_workbook(lot), f"ranking-{lot.tender.number}-lot{lot.number}.xlsx", "ranking.xlsx")


@bp.route("/lots/<int:lot_id>/award", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_award(lot_id):
    lot = evaluation.evaluation_lot(lot_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    award = awards.confirm_award(lot, utcnow())
    flash(_("The award is confirmed and the result published."), "success")
    return _back("tenders.award_detail", award_id=award.id)


@bp.route("/<int:tender_id>/retender", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_retender(tender_id):
    tender = _tender(tender_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    copy = evaluation.retender(tender, current_user, utcnow())
    flash(_("A new draft tender %(number)s was created from the failed lots.", number=copy.number), "success")
    return _back("tenders.evaluation_overview", tender_id=tender.id)


# --- awards and challenges ------------------------------------------------------------------

@bp.route("/awards/<int:award_id>")
@capability_required("evaluation.read")
def award_detail(award_id):
    award = awards.get_award(award_id)
    title, body, _data = awards.award_notice(award)
    blocked, reason = awards.signing_blocked(award)
    from portal.tenders.award_views import remedy_context
    return render_template("tenders/evaluation/award.html", award=award, lot=award.lot, tender=award.lot.tender,
                           notice_title=title, notice_body=body, blocked=blocked, blocked_reason=reason,
                           challenge_form=ChallengeForm(), answer_form=AnswerForm(), now=utcnow(),
                           **remedy_context(award))


@bp.route("/awards/<int:award_id>/challenges", methods=["POST"])
@capability_required("evaluation.edit")
def award_challenge_new(award_id):
    award = awards.get_award(award_id)
    form = ChallengeForm()
    if not form.validate_on_submit():
        flash(_("Name the challenger and the grounds."), "error")
    else:
        awards.record_challenge(award, challenger=form.challenger.data, grounds=form.grounds.data,
                                may_change_result=form.may_change_result.data, now=utcnow())
        flash(_("The challenge is recorded."), "success")
    return _back("tenders.award_detail", award_id=award.id)


@bp.route("/challenges/<int:challenge_id>/answer", methods=["POST"])
@capability_required("evaluation.edit")
def award_challenge_answer(challenge_id):
    challenge = awards.get_challenge(challenge_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Choose the outcome and write the answer."), "error")
    else:
        awards.answer_challenge(challenge, outcome=form.outcome.data, answer=form.answer.data, now=utcnow())
        flash(_("The answer is recorded."), "success")
    return _back("tenders.award_detail", award_id=challenge.award_id)

