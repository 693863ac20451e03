// The assessment form of the field-worker app (/field/assessments/): the worker's people on
// contracts with an assessment item, six yes/no indicators, notes and the phone's position.
// Every assessment is made in the browser with a client id and written to localStorage with its
// body, frozen, before anything is sent; it leaves the queue only when the server has answered
// 200/201. A resend reuses the client id and the very same body, so the server answers 200 with
// the assessment it already has instead of making a second one. A 409 is kept as a conflict and
// any other refusal as an error, until the worker discards it. Uses FieldQueue (field-queue.js)
// for ids, the device id, the API calls, sending, the assignments and what the field pages show
// alike. No inline scripts: the CSP forbids them.
//
// Optional photos (camera on phones) are taken into the form, shrunk, and stored with the
// assessment in the queue; once the server has the assessment they are sent one by one
// (POST /api/v1/assessments/{id}/photos) and each leaves the queue only when the server answered
// 200/201 (a resend of the same bytes is answered 200 with the photo it has: never a second one).
// A refused photo is kept as the assessment's photo problem until the worker discards the photos.
//
// Each person's card says what was assessed today, from the queue and from the server's list of
// the worker's assessments (kept on the phone for the day), and asks before a second assessment
// of the same person on the same day.
(function () {
  "use strict";

  var Q = window.FieldQueue;
  var page = Q && Q.page();
  if (!page) {
    return;
  }
  var main = page.main, M = page.M, KEY = page.key;
  var ASSIGNMENTS_KEY = main.getAttribute("data-assignments-key");
  var SENT_KEY = KEY + ":sent-today";
  var DETAIL = main.getAttribute("data-detail-prefix");
  var helper = Q.create(KEY + ":api", page.csrf, function () { render(); });
  var api = helper.api;
  var uuid = Q.uuid, localDay = Q.localDay, fmt = Q.fmt, el = Q.el, clock = Q.dayClock;
  var stored = Q.store(KEY, "assessments");
  var load = stored.load, save = stored.save, find = stored.find, update = stored.update;

  var assignments = [];
  var answers = {};       // card key -> {indicator: true/false}
  var drafts = {};        // card key -> notes being typed
  var draftPhotos = {};   // card key -> [{key, data_url}] taken for the assessment not yet recorded
  var again = {};         // card key -> true: the worker chose to assess the person a second time today
  var busy = {};
  var cardNotes = {};
  var sessionEnded = false;
  var signingOut = false;

  // The same rule as the server's (models.care_class): shown at once, replaced by the server's.
  function careClass(notMet) {
    return notMet <= 0 ? "self_care" : (notMet <= 3 ? "partial" : "complete");
  }

  function photosOf(a) {
    return a.photos || [];  // (entries queued before photos existed have none)
  }

  // What the server still lacks of an assessment: the assessment itself, or photos.
  function owing(a) {
    return !a.problem && (a.id === null || (!a.photo_problem && photosOf(a).length > 0));
  }

  function inQueue(a) {
    return Boolean(a.problem) || Boolean(a.photo_problem) || owing(a);
  }

  // --- sending ----------------------------------------------------------------------------------

  function failed(clientId, r, field) {
    if (Q.stopsRound(r, function () { sessionEnded = true; })) {
      return false;
    }
    update(clientId, function (a) {
      a[field || "problem"] = {kind: r.status === 409 ? "conflict" : "error", detail: helper.problemText(r)};
    });
    return true;
  }

  async function send(clientId) {
    var a = find(clientId);
    if (!a || !owing(a)) {
      return true;
    }
    if (a.id === null) {
      var r = await api("POST", "/api/v1/assessments", a.body);
      if (!r.ok) {
        return failed(clientId, r);
      }
      a = update(clientId, function (x) {
        var data = r.data || {};
        x.id = data.id;
        x.status = data.status || null;
        x.care_class = data.care_class || x.care_class;
        x.not_met = typeof data.not_met === "number" ? data.not_met : x.not_met;
        x.distance_from_home_m = data.distance_from_home_m;
      });
      render();
    }
    // Then its photos, in order, each removed from the queue only once the server has it.
    while (a && a.id !== null && !a.photo_problem && photosOf(a).length > 0) {
      var photo = photosOf(a)[0];
      var form = new FormData();
      form.append("file", Q.dataUrlToBlob(photo.data_url), "photo-" + photo.key + ".jpg");
      var sent = await api("POST", "/api/v1/assessments/" + a.id + "/photos", form);
      if (!sent.ok && (sent.status === 413 || sent.status === 415 || sent.status === 422)) {
        // This photo only (too large, not an image, damaged): it is dropped and said so; the
        // photos queued after it are still sent.
        a = update(clientId, function (x) {
          x.photos = photosOf(x).filter(function (p) { return p.key !== photo.key; });
          x.photos_refused = (x.photos_refused || []).concat([helper.problemText(sent)]);
        });
        render();
        continue;
      }
      if (!sent.ok) {  // the evidence is frozen (409), or the server failed: the worker decides
        return failed(clientId, sent, "photo_problem");
      }
      a = update(clientId, function (x) {
        x.photos = photosOf(x).filter(function (p) { return p.key !== photo.key; });
        x.photos_sent = (x.photos_sent || 0) + 1;
      });
    }
    return true;
  }

  var sending = Q.sender(KEY, {send: send, render: function () { render(); }, ended: function () { return sessionEnded; },
                               owed: function () {
                                 return load().assessments.filter(owing).map(function (x) { return x.client_id; });
                               },
                               after: function () {
                                 if (navigator.onLine && !sessionEnded) {
                                   loadSentToday();
                                 }
                               }});
  var flush = sending.flush;

  // --- recording --------------------------------------------------------------------------------

  function note(cardKey, text, kind) {
    cardNotes[cardKey] = text ? {text: text, kind: kind || "info"} : null;
  }

  async function recordAssessment(assignment, cardKey) {
    var given = answers[cardKey] || {};
    var complete = M.indicators.every(function (i) { return typeof given[i.name] === "boolean"; });
    if (!complete) {
      note(cardKey, M.answer_all, "error");
      render();
      return;
    }
    if (todayOf(assignment.beneficiary.id).length &&
        !window.confirm(fmt(M.second_today, {name: assignment.beneficiary.display_name}))) {
      return;
    }
    busy[cardKey] = true;
    note(cardKey, M.locating);
    render();
    try {
      var position = await Q.locate(M);
      // beyond the geofence from the home (V02, the home visit recorded with it): only with a reason
      var reasonNote = await Q.farReason(M, assignment.beneficiary,
                                         {lat: position.coords.latitude, lon: position.coords.longitude});
      if (reasonNote === null) {
        note(cardKey, M.cancelled, "info");
        return;
      }
      var indicators = {};
      M.indicators.forEach(function (i) { indicators[i.name] = given[i.name]; });
      var body = {client_id: uuid(), beneficiary_id: assignment.beneficiary.id, assessed_at: new Date().toISOString(),
                  lat: position.coords.latitude, lon: position.coords.longitude, indicators: indicators,
                  notes: Q.notesWithReason(drafts[cardKey], reasonNote),
                  device_id: helper.deviceId()};
      var accuracy = Q.accuracyOf(position.coords);
      if (accuracy !== null) {
        body.accuracy_m = accuracy;
      }
      var notMet = M.indicators.filter(function (i) { return !indicators[i.name]; }).length;
      var state = load();
      state.assessments.push({client_id: body.client_id, beneficiary_id: assignment.beneficiary.id,
                              contract_id: assignment.contract_id, day: localDay(), body: body, id: null,
                              status: null, not_met: notMet, care_class: careClass(notMet), problem: null,
                              photos: (draftPhotos[cardKey] || []).slice(), photos_sent: 0, photo_problem: null});
      save(state);
      answers[cardKey] = {};
      drafts[cardKey] = "";
      draftPhotos[cardKey] = [];
      again[cardKey] = false;
      note(cardKey, null);
    } catch (error) {
      note(cardKey, Q.errorText(M, error), "error");
    } finally {
      busy[cardKey] = false;
      render();
    }
    flush();
  }

  function discard(clientId) {
    Q.discard(M.discard_confirm, stored, clientId, render);
  }

  // A refused photo: the assessment itself is on the server; its unsent photos are dropped.
  function discardPhotos(clientId) {
    if (!window.confirm(M.discard_photos_confirm)) {
      return;
    }
    update(clientId, function (a) { a.photos = []; a.photo_problem = null; });
    render();
  }

  function readPhoto(input, change, cardKey) {
    Q.readPhoto(M, input, change, function (text, kind) { note(cardKey, text, kind); }).then(function (read) {
      if (read) {
        render();
      }
    });
  }

  function photoLine(inputId, count, onPhoto, extra) {
    return Q.photoLine(M, inputId, count, onPhoto, extra);
  }

  // --- what was assessed today: the queue, and the server's list of the worker's assessments ------

  function sentToday() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(SENT_KEY) || "null");
      return kept && kept.day === localDay() && Array.isArray(kept.items) ? kept.items : [];
    } catch (e) {
      return [];
    }
  }

  async function loadSentToday() {
    var now = new Date();
    var month = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0");
    var r = await api("GET", "/api/v1/assessments?month=" + month);
    if (!r.ok || !r.data || !Array.isArray(r.data.items) || signingOut) {
      return;
    }
    var today = localDay();
    var items = r.data.items.filter(function (a) {
      return a.status !== "withdrawn" && localDay(new Date(a.assessed_at)) === today;
    }).map(function (a) {
      return {id: a.id, beneficiary_id: a.beneficiary.id, assessed_at: a.assessed_at, care_class: a.care_class};
    });
    try {
      window.localStorage.setItem(SENT_KEY, JSON.stringify({day: today, items: items}));
    } catch (e) { /* only a convenience */ }
    render();
  }

  // [{at, care_class, sent}] of the person today: this phone's queue (but not a refused
  // assessment) and what the server has from any phone, each once.
  function todayOf(beneficiaryId) {
    var today = localDay();
    var local = load().assessments.filter(function (a) {
      return a.beneficiary_id === beneficiaryId && a.day === today && !a.problem;
    });
    var ids = local.map(function (a) { return a.id; });
    return local.map(function (a) {
      return {at: a.body.assessed_at, care_class: a.care_class, sent: a.id !== null};
    }).concat(sentToday().filter(function (a) {
      return a.beneficiary_id === beneficiaryId && ids.indexOf(a.id) < 0;
    }).map(function (a) {
      return {at: a.assessed_at, care_class: a.care_class, sent: true};
    }));
  }

  // --- rendering --------------------------------------------------------------------------------

  function stateOf(a) {
    return Q.recordState(a, sending);
  }

  function assessmentRow(a) {
    var state = stateOf(a);
    var stateText = {queued: M.queued, sending: M.sending, sent: M.sent, conflict: M.conflict,
                     error: fmt(M.error, {reason: a.problem ? a.problem.detail : ""})}[state];
    var facts = [fmt(M.not_met, {count: a.not_met})];
    if (typeof a.distance_from_home_m === "number") {
      facts.push(fmt(M.from_home, {metres: a.distance_from_home_m}));
    }
    var row = el("li", {"class": "visit-row assessment-row visit-" + state, "data-client-id": a.client_id,
                        "data-state": state, "data-assessment-id": a.id === null ? "" : a.id,
                        "data-care-class": a.care_class || "", "data-photos-pending": String(photosOf(a).length),
                        "data-photos-sent": String(a.photos_sent || 0)}, [
      el("p", {"class": "visit-times", text: fmt(M.assessment_of, {time: clock(a.body.assessed_at)})}),
      el("p", {"class": "care-class", text: M.classes[a.care_class] || a.care_class}),
      el("p", {"class": "visit-facts", text: facts.join(" · ")}),
      el("p", {"class": "visit-state", text: stateText}),
      a.status ? el("p", {"class": "visit-status", text: M.statuses[a.status] || a.status}) : null,
    ]);
    var photoCount = (a.photos_sent || 0) + photosOf(a).length;
    var waiting = photosOf(a).length && !a.photo_problem
      ? el("span", {"class": "photos-waiting", text: fmt(M.photos_waiting, {count: photosOf(a).length})}) : null;
    if (!a.problem && (a.status === null || a.status === undefined || a.status === "recorded")) {
      row.appendChild(photoLine("photo-" + a.client_id, photoCount, function (input) {
        readPhoto(input, function (dataUrl) {
          update(a.client_id, function (x) { x.photos = photosOf(x).concat([{key: uuid(), data_url: dataUrl}]); });
          flush();
        }, "row-" + a.client_id);
      }, waiting));
    } else if (photoCount) {
      row.appendChild(el("p", {"class": "photo-count", text: fmt(M.photos, {count: photoCount})}, [waiting]));
    }
    if (cardNotes["row-" + a.client_id]) {
      row.appendChild(el("p", {"class": "note-error", role: "status", text: cardNotes["row-" + a.client_id].text}));
    }
    (a.photos_refused || []).forEach(function (reason) {
      row.appendChild(el("p", {"class": "photo-refused note-error", text: fmt(M.photo_refused, {reason: reason})}));
    });
    if (a.photo_problem) {
      row.appendChild(el("p", {"class": "photo-problem note-error",
                               text: fmt(M.photo_problem, {reason: a.photo_problem.detail})}));
      var dropPhotos = el("button", {type: "button", "class": "button button-danger discard-photos",
                                     text: M.discard_photos});
      dropPhotos.addEventListener("click", function () { discardPhotos(a.client_id); });
      row.appendChild(dropPhotos);
    }
    if (a.id !== null) {
      row.appendChild(el("p", {}, [el("a", {href: DETAIL + a.id, "class": "open-assessment", text: M.open})]));
    }
    if (a.problem) {
      var drop = el("button", {type: "button", "class": "button button-danger discard-button", text: M.discard});
      drop.addEventListener("click", function () { discard(a.client_id); });
      row.appendChild(drop);
    }
    return row;
  }

  function indicatorField(cardKey, indicator) {
    var given = answers[cardKey] || {};
    var name = cardKey + "-" + indicator.name;
    var choices = [[true, M.can], [false, M.cannot]].map(function (pair) {
      var id = name + (pair[0] ? "-yes" : "-no");
      var input = el("input", {type: "radio", name: name, id: id, value: pair[0] ? "yes" : "no",
                               checked: given[indicator.name] === pair[0], "data-indicator": indicator.name});
      input.addEventListener("change", function () {
        answers[cardKey] = Object.assign({}, answers[cardKey] || {});
        answers[cardKey][indicator.name] = pair[0];
        note(cardKey, null);
        render();
      });
      return el("label", {"for": id, "class": "choice"}, [input, document.createTextNode(" " + pair[1])]);
    });
    return el("fieldset", {"class": "indicator", "data-indicator": indicator.name},
              [el("legend", {text: indicator.label})].concat(choices));
  }

  function card(assignment, mine) {
    var person = assignment.beneficiary;
    var key = "card-" + person.id + "-" + assignment.contract_id;
    var node = el("li", {"class": "assignment-card", id: key, "data-beneficiary-id": person.id}, Q.personLines(person));
    var today = todayOf(person.id);
    if (today.length) {
      node.appendChild(el("ul", {"class": "today-notes", "data-count": String(today.length)}, today.map(function (t) {
        return el("li", {"class": "today-note note-" + (t.sent ? "sent" : "queued"),
                         text: fmt(t.sent ? M.today_sent : M.today_queued,
                                   {time: clock(t.at), "class": M.classes[t.care_class] || t.care_class})});
      })));
    }
    if (today.length && !again[key]) {
      // Not an empty form again: a second assessment the same day is rare, so it takes a choice.
      var more = el("button", {type: "button", id: key + "-again", "class": "button button-secondary assess-again",
                               text: M.assess_again});
      more.addEventListener("click", function () { again[key] = true; render(); });
      node.appendChild(more);
      appendRows(node, mine);
      return node;
    }
    var form = el("div", {"class": "assessment-form"}, M.indicators.map(function (i) { return indicatorField(key, i); }));
    var notesId = key + "-notes";
    var notes = el("textarea", {id: notesId, rows: "2", maxlength: String(Q.NOTES_TYPED), "class": "assessment-notes"});
    notes.value = drafts[key] || "";
    notes.addEventListener("input", function () { drafts[key] = notes.value; });
    form.appendChild(el("p", {"class": "field"}, [el("label", {"for": notesId, text: M.notes}), notes]));
    var taken = draftPhotos[key] || [];
    var clear = null;
    if (taken.length) {
      clear = el("button", {type: "button", "class": "link-button remove-photos", text: M.remove_photos});
      clear.addEventListener("click", function () { draftPhotos[key] = []; render(); });
    }
    form.appendChild(photoLine(key + "-photo", taken.length, function (input) {
      readPhoto(input, function (dataUrl) {
        draftPhotos[key] = (draftPhotos[key] || []).concat([{key: uuid(), data_url: dataUrl}]);
      }, key);
    }, clear));
    node.appendChild(form);
    var given = answers[key] || {};
    var answered = M.indicators.filter(function (i) { return typeof given[i.name] === "boolean"; }).length;
    if (answered === M.indicators.length) {
      var notMet = M.indicators.filter(function (i) { return given[i.name] === false; }).length;
      node.appendChild(el("p", {"class": "class-preview", text: M.classes[careClass(notMet)] + " · " +
                                                               fmt(M.not_met, {count: notMet})}));
    }
    var action = el("button", {type: "button", id: key + "-record", "class": "button big-button record-assessment",
                               text: M.record, disabled: busy[key]});
    action.addEventListener("click", function () { recordAssessment(assignment, key); });
    node.appendChild(action);
    node.appendChild(Q.noteLine(cardNotes[key]));
    appendRows(node, mine);
    return node;
  }

  function appendRows(node, mine) {
    if (mine.length) {
      node.appendChild(el("ul", {"class": "visit-list"}, mine.map(assessmentRow)));
    }
  }

  var lastRendered = null;

  // Rebuilds the list only when something shown has changed (a node replaced under a finger
  // would swallow the tap; a textarea replaced while typing would lose the caret).
  function render() {
    var queued = load().assessments;
    var keys = function (photos) { return (photos || []).map(function (p) { return p.key; }); };
    var signature = JSON.stringify([queued.map(function (a) { return Object.assign({}, a, {photos: keys(a.photos)}); }),
                                    assignments, answers, busy, cardNotes, sending.isFlushing(), sessionEnded, navigator.onLine,
                                    Object.keys(draftPhotos).map(function (k) { return [k, keys(draftPhotos[k])]; }),
                                    again, sentToday()]);
    if (signature === lastRendered) {
      return;
    }
    lastRendered = signature;
    var focusedId = document.activeElement ? document.activeElement.id : "";
    Q.renderCards(M, assignments, queued, card, "other-assessments", assessmentRow, inQueue);
    var waiting = queued.filter(inQueue).length;
    Q.renderStatus(main, M, waiting, waiting === 0, sending.isFlushing(), sessionEnded);
    Q.refocus(focusedId);
  }

  // --- assignments: only contracts with an item of unit "assessment" ------------------------------

  function assessable(list) {
    return list.filter(function (a) {
      return (a.service_items || []).some(function (item) { return item.unit === "assessment"; });
    });
  }

  function loadAssignments() {
    return Q.loadAssignments({M: M, queue: helper, key: ASSIGNMENTS_KEY, keep: assessable, render: render,
                              use: function (list, fresh) {
                                assignments = list;
                                if (fresh) { loadSentToday(); }
                              },
                              stopped: function () { return signingOut; },
                              endSession: function () { sessionEnded = true; }});
  }

  // --- start ------------------------------------------------------------------------------------

  // Signing out forgets the day's saved lists of the field pages and their offline copy.
  Q.start({key: KEY, prefix: "field-assessments:", flush: flush, loadAssignments: loadAssignments, render: render,
           signOut: function () { signingOut = true; }});

  stored.prune(inQueue);
  loadAssignments().then(function () { flush(); });

  Q.registerWorker(main);
})();
