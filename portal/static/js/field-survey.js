// The survey form of the field-worker app (/field/surveys/): the worker's families on contracts
// with a household-survey item, and for one of them at a time a household economic survey —
// members, incomes, assets, rigid expenses, neighbour interviews, notes — with the phone's position
// taken at save (docs/DOMAIN.md §6 "Household economic survey").
//
// Each survey gets its client id once, when its form is opened (crypto.randomUUID), and is written
// to localStorage with its body, frozen, before anything is sent; it leaves the queue only when the
// server has answered 200/201, so a resend reuses the id and the very same body and the server
// answers 200 with the survey it already holds instead of making a second one. A 422 keeps the
// survey on the phone with the server's field errors, for correction (the corrected body goes under
// the same id: the server stored nothing); a 409 (recorded differently) is kept until discarded.
// The card then shows the server's judgement: the outcome, the per-capita income against the
// standard and the rules that decided. The form being typed is kept on the phone too (a reload or a
// flat battery loses nothing); signing out forgets it.
//
// Amounts are typed in yuan and turned into integer fen from the decimal string itself, never
// through a float. The checks here are the server's (no members, no interview, negative or
// malformed amounts, ID numbers, future times), said next to the field in the page's language.
// Uses FieldQueue (field-queue.js) for ids, the device id, the position, the API calls, sending, the
// assignments and what the field pages show alike. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  var Q = window.FieldQueue;
  var page = Q && Q.page();
  if (!page) {
    return;
  }
  var main = page.main, M = page.M, KEY = page.key;
  var ASSIGNMENTS_KEY = main.getAttribute("data-assignments-key");
  var DRAFT_KEY = KEY + ":draft";
  var SURVEY_UNIT = "household_survey";
  var helper = Q.create(KEY + ":api", page.csrf, function () { render(); });
  var api = helper.api;
  var uuid = Q.uuid, localDay = Q.localDay, fmt = Q.fmt, el = Q.el, clock = Q.dayClock;
  var Form = window.FieldSurveyForm;
  var stored = Q.store(KEY, "surveys");
  var load = stored.load, save = stored.save, find = stored.find, update = stored.update;

  var assignments = [];
  var sessionEnded = false;
  var signingOut = false;
  var busy = false;
  var formNote = null;   // {text, kind} under the save button

  function owing(s) {
    return !s.problem && s.id === null;
  }

  function inQueue(s) {
    return Boolean(s.problem) || owing(s);
  }

  // --- sending ----------------------------------------------------------------------------------

  function refusal(r) {
    var data = r.data || {};
    if (r.status === 409) {
      return {kind: "conflict", detail: data.detail || data.title || ""};
    }
    if (r.status === 422) {
      return {kind: "invalid", detail: data.detail || data.title || "", errors: data.errors || {}};
    }
    return {kind: "error", detail: helper.problemText(r)};
  }

  function failed(clientId, r) {
    if (Q.stopsRound(r, function () { sessionEnded = true; })) {
      return false;
    }
    update(clientId, function (s) { s.problem = refusal(r); });
    return true;
  }

  function takeJudgement(s, data) {
    s.id = data.id;
    s.status = data.status || null;
    s.judgement = {outcome: data.outcome, per_capita_income_fen: data.per_capita_income_fen,
                   standard_fen: data.standard_fen, marginal_limit_fen: data.marginal_limit_fen,
                   members: data.members, reasons: Array.isArray(data.reasons) ? data.reasons : []};
    s.draft = null;  // the server has it: the typed form is not kept any longer than needed
  }

  async function send(clientId) {
    var s = find(clientId);
    if (!s || !owing(s)) {
      return true;
    }
    var r = await api("POST", "/api/v1/surveys", s.body);
    if (!r.ok) {
      return failed(clientId, r);
    }
    update(clientId, function (x) { takeJudgement(x, r.data || {}); });
    return true;
  }

  var sending = Q.sender(KEY, {send: send, render: function () { render(); }, ended: function () { return sessionEnded; },
                               owed: function () {
                                 return load().surveys.filter(owing).map(function (x) { return x.client_id; });
                               }});
  var flush = sending.flush;

  // --- the form being entered (one family at a time, kept on the phone) ---------------------------

  function loadDraft() {
    try {
      var draft = JSON.parse(window.localStorage.getItem(DRAFT_KEY) || "null");
      return draft && draft.client_id && Array.isArray(draft.members) ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function keepDraft(draft) {
    if (signingOut) {
      return;
    }
    try {
      if (draft) {
        window.localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
      } else {
        window.localStorage.removeItem(DRAFT_KEY);
      }
    } catch (e) { /* the form still works; only a reload would lose it */ }
  }

  var draft = loadDraft();
  var formSection = el("section", {id: "survey-form", "class": "survey-form-section", "aria-live": "off"});
  main.insertBefore(formSection, document.getElementById("assignments-message"));

  function renderForm() {
    formSection.hidden = !draft;
    if (!draft) {
      formSection.replaceChildren();
      return;
    }
    Form.render(formSection, draft, M, {
      changed: function () { keepDraft(draft); },
      rebuilt: function () { keepDraft(draft); renderForm(); },
      save: function () { saveSurvey(); },
      close: function () { closeForm(); },
      busy: busy, note: formNote,
    });
  }

  function openForm(assignment) {
    if (draft && draft.beneficiary_id === assignment.beneficiary.id && draft.contract_id === assignment.contract_id) {
      formSection.scrollIntoView();
      return;
    }
    if (draft && !window.confirm(M.replace_draft)) {
      return;
    }
    // The survey's client id is made here, once: every save and resend of this survey uses it.
    draft = Form.blank(uuid(), assignment);
    formNote = null;
    keepDraft(draft);
    renderForm();
    render();
    formSection.scrollIntoView();
  }

  function closeForm() {
    draft = null;
    formNote = null;
    keepDraft(null);
    renderForm();
    render();
  }

  // A survey the server refused (422): back into the form with the server's messages at its
  // fields, under the same client id; it stays in the queue as refused until saved again.
  function correct(s) {
    if (draft && draft.client_id !== s.client_id && !window.confirm(M.replace_draft)) {
      return;
    }
    draft = JSON.parse(JSON.stringify(s.draft));
    draft.errors = Form.serverErrors(s.problem && s.problem.errors);
    formNote = {text: M.refused, kind: "error"};
    keepDraft(draft);
    renderForm();
    render();
    formSection.scrollIntoView();
  }

  async function saveSurvey() {
    var checked = Form.check(draft, M, new Date());
    draft.errors = checked.errors;
    if (Object.keys(checked.errors).length) {
      formNote = {text: M.fix_errors, kind: "error"};
      keepDraft(draft);
      renderForm();
      var first = formSection.querySelector(".field-error:not(:empty)");
      if (first) { first.scrollIntoView({block: "center"}); }
      return;
    }
    busy = true;
    formNote = {text: M.locating, kind: "info"};
    renderForm();
    try {
      var position = await Q.locate(M);
      // beyond the geofence from the home (V02, the home visit recorded with it): only with a reason
      var home = assignments.filter(function (a) { return a.beneficiary.id === draft.beneficiary_id; })[0];
      var reasonNote = await Q.farReason(M, home && home.beneficiary,
                                         {lat: position.coords.latitude, lon: position.coords.longitude});
      if (reasonNote === null) {
        formNote = {text: M.cancelled, kind: "info"};
        return;
      }
      var body = Object.assign({client_id: draft.client_id, beneficiary_id: draft.beneficiary_id,
                                surveyed_at: Form.isoLocal(new Date()), lat: position.coords.latitude,
                                lon: position.coords.longitude, accuracy_m: null, device_id: helper.deviceId()},
                               checked.body);
      if (reasonNote) {
        body.notes = Q.notesWithReason(body.notes, reasonNote);
      }
      var accuracy = Q.accuracyOf(position.coords);
      if (accuracy !== null) {
        body.accuracy_m = accuracy;
      }
      var kept = JSON.parse(JSON.stringify(draft));
      kept.errors = {};
      var entry = {client_id: draft.client_id, beneficiary_id: draft.beneficiary_id, contract_id: draft.contract_id,
                   display_name: draft.display_name, day: localDay(), body: body, id: null, status: null,
                   problem: null, judgement: null, draft: kept};
      var state = load();
      // A corrected survey replaces its refused version (same client id: the server has neither).
      state.surveys = state.surveys.filter(function (s) { return s.client_id !== entry.client_id; }).concat([entry]);
      save(state);
      draft = null;
      formNote = null;
      keepDraft(null);
    } catch (error) {
      formNote = {text: Q.errorText(M, error), kind: "error"};
    } finally {
      busy = false;
      renderForm();
      render();
    }
    flush();
  }

  function discard(clientId) {
    Q.discard(M.discard_confirm, stored, clientId, render);
  }

  // --- rendering the families and their surveys ------------------------------------------------------

  function stateOf(s) {
    return Q.recordState(s, sending);
  }

  function judgementBlock(j) {
    var outcome = el("p", {"class": "survey-outcome outcome-" + j.outcome, text: M.outcomes[j.outcome] || j.outcome});
    var figures = el("p", {"class": "survey-per-capita", text: fmt(M.per_capita, {
      income: Form.yuan(j.per_capita_income_fen), standard: Form.yuan(j.standard_fen),
      limit: Form.yuan(j.marginal_limit_fen)})});
    var reasons = el("ul", {"class": "survey-reasons"}, j.reasons.map(function (text) {
      return el("li", {text: typeof text === "string" ? text : JSON.stringify(text)});
    }));
    return el("div", {"class": "survey-judgement"}, [outcome, figures, reasons]);
  }

  function surveyRow(s) {
    var state = stateOf(s);
    var stateText = {queued: M.queued, sending: M.sending, sent: M.sent, conflict: M.conflict, invalid: M.refused,
                     error: fmt(M.error, {reason: s.problem ? s.problem.detail : ""})}[state];
    var row = el("li", {"class": "visit-row survey-row visit-" + state, "data-client-id": s.client_id,
                        "data-state": state, "data-survey-id": s.id === null ? "" : s.id,
                        "data-outcome": s.judgement ? s.judgement.outcome : ""}, [
      el("p", {"class": "visit-times", text: fmt(M.survey_of, {time: clock(s.body.surveyed_at)}) + " · " +
                                             fmt(M.members_count, {count: s.body.members.length})}),
      el("p", {"class": "visit-state", text: stateText}),
      s.status ? el("p", {"class": "visit-status", text: M.statuses[s.status] || s.status}) : null,
      s.judgement ? judgementBlock(s.judgement) : null,
    ]);
    if (s.problem && s.problem.kind === "invalid") {
      var listed = Form.serverErrors(s.problem.errors);
      row.appendChild(el("ul", {"class": "survey-problems note-error"}, Object.keys(listed).map(function (path) {
        return el("li", {text: listed[path]});
      })));
      if (s.draft) {
        var fix = el("button", {type: "button", "class": "button big-button correct-survey", text: M.correct});
        fix.addEventListener("click", function () { correct(s); });
        row.appendChild(fix);
      }
    }
    if (s.problem) {
      var drop = el("button", {type: "button", "class": "button button-danger discard-button", text: M.discard});
      drop.addEventListener("click", function () { discard(s.client_id); });
      row.appendChild(drop);
    }
    return row;
  }

  function card(assignment, mine) {
    var person = assignment.beneficiary;
    var key = "card-" + person.id + "-" + assignment.contract_id;
    var open = draft && draft.beneficiary_id === person.id && draft.contract_id === assignment.contract_id;
    var start = el("button", {type: "button", id: key + "-start", "class": "button big-button start-survey",
                              text: M.start, "aria-expanded": open ? "true" : "false", "aria-controls": "survey-form"});
    start.addEventListener("click", function () { openForm(assignment); });
    return el("li", {"class": "assignment-card" + (open ? " is-open" : ""), id: key, "data-beneficiary-id": person.id},
              Q.personLines(person).concat([start, mine.length ? el("ul", {"class": "visit-list"}, mine.map(surveyRow)) : null]));
  }

  var lastRendered = null;

  function render() {
    var items = load().surveys;
    var signature = JSON.stringify([items, assignments, sending.isFlushing(), sessionEnded, navigator.onLine,
                                    draft ? [draft.beneficiary_id, draft.contract_id] : null]);
    if (signature === lastRendered) {
      return;
    }
    lastRendered = signature;
    var focusedId = document.activeElement && document.getElementById("assignments").contains(document.activeElement)
      ? document.activeElement.id : "";
    Q.renderCards(M, assignments, items, card, "other-surveys", surveyRow, inQueue);
    Q.renderStatus(main, M, items.filter(inQueue).length, !items.some(owing), sending.isFlushing(), sessionEnded);
    if (focusedId && document.getElementById(focusedId)) {
      document.getElementById(focusedId).focus();
    }
  }

  // --- assignments: only contracts with an item of unit "household_survey" ------------------------

  function surveyable(list) {
    return list.filter(function (a) {
      return (a.service_items || []).some(function (item) { return item.unit === SURVEY_UNIT; });
    });
  }

  function loadAssignments() {
    return Q.loadAssignments({M: M, queue: helper, key: ASSIGNMENTS_KEY, keep: surveyable, render: render,
                              use: function (list) { assignments = list; },
                              stopped: function () { return signingOut; },
                              endSession: function () { sessionEnded = true; }});
  }

  // --- start ------------------------------------------------------------------------------------

  // Signing out forgets the day's saved lists of the field pages, the form being typed and their
  // offline copy; the queue of unsent surveys stays (it is the worker's).
  Q.start({key: KEY, prefix: "field-surveys:", flush: flush, loadAssignments: loadAssignments, render: render,
           signOut: function () { signingOut = true; }});

  // Sent surveys stay on their card for the day they were made; unsent and refused ones until
  // the server has them or the worker discards them.
  stored.prune(inQueue);
  renderForm();
  loadAssignments().then(function () { flush(); });

  Q.registerWorker(main);
})();
