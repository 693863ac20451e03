// The field-worker app (/field/): today's assignments, check-in and check-out with the browser's
// position, photos from the camera, and the offline queue of field-queue.js (loaded before this
// file). No inline scripts or handlers: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  var Q = window.FieldQueue;
  var page = Q && Q.page();
  if (!page) {
    return;
  }
  var main = page.main, M = page.M, KEY = page.key;
  var ASSIGNMENTS_KEY = KEY + ":assignments";
  var queue = Q.create(KEY, page.csrf, function () { render(); });
  var uuid = Q.uuid, localDay = Q.localDay, fmt = Q.fmt, el = Q.el;
  var load = queue.load, save = queue.save, find = queue.find, update = queue.update;
  var hasWork = queue.hasWork, inQueue = queue.inQueue, flush = queue.flush, poll = queue.poll;

  var assignments = [];
  var busy = {};          // card key -> true while its position is being found
  var cardNotes = {};     // card key -> {text, kind}
  var signingOut = false; // from then on nothing more is saved for this person
  var again = {};         // card key -> true once the worker confirmed another visit today

  // --- small helpers -------------------------------------------------------------------------

  function clock(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang || undefined,
                                            {hour: "2-digit", minute: "2-digit"});
  }

  // --- recording -------------------------------------------------------------------------------

  function note(cardKey, text, kind) {
    cardNotes[cardKey] = text ? {text: text, kind: kind || "info"} : null;
  }

  // Finds the position, then runs ``action(position)`` (which may ask the worker first and resolve
  // false when they cancelled); every error is said in the page's words (FieldQueue.errorText).
  async function withPosition(cardKey, action) {
    busy[cardKey] = true;
    note(cardKey, M.locating);
    render();
    try {
      var position = await Q.locate(M);
      note(cardKey, null);
      var done = await action({at: new Date().toISOString(), lat: position.coords.latitude,
                               lon: position.coords.longitude, accuracy: position.coords.accuracy});
      if (done === false) {
        note(cardKey, M.cancelled, "info");
      }
    } catch (error) {
      note(cardKey, Q.errorText(M, error), "error");
    } finally {
      busy[cardKey] = false;
      render();
      focusCard(cardKey);
    }
    flush();
  }

  // After a step the card was rebuilt (its button disabled while busy, a dialog gone, the done
  // panel in place of 签退): the keyboard's focus goes back to the card's action button, else the
  // done panel's link, else the card's heading; unless the worker has put it elsewhere meanwhile.
  function focusCard(cardKey) {
    var node = document.getElementById(cardKey);
    var active = document.activeElement;
    if (!node || (active && active !== document.body && !node.contains(active))) {
      return;
    }
    var target = document.getElementById(cardKey + "-action") || document.getElementById(cardKey + "-again");
    if (!target) {
      target = node.querySelector("h2, h3");
      if (target) { target.setAttribute("tabindex", "-1"); }
    }
    if (target && target !== active) { target.focus(); }
  }

  function checkIn(assignment, cardKey, itemCode) {
    withPosition(cardKey, async function (pos) {
      var reasonNote = await Q.farReason(M, assignment.beneficiary, pos);
      if (reasonNote === null) {
        return false;
      }
      var state = load();
      var checkIn = {at: pos.at, lat: pos.lat, lon: pos.lon};
      var accuracy = Q.accuracyOf(pos);
      if (accuracy !== null) {
        checkIn.accuracy_m = accuracy;
      }
      state.visits.push({client_id: uuid(), beneficiary_id: assignment.beneficiary.id,
                         contract_id: assignment.contract_id, service_item: itemCode, device_id: queue.deviceId(),
                         day: localDay(), check_in: checkIn, check_out: null, body: null, id: null,
                         checkout_sent: false, photos: [], photos_sent: 0, problem: null, status: null,
                         exceptions: [], check_in_note: reasonNote});
      save(state);
      again[cardKey] = false;  // once this one is done the card says so again
    });
  }

  // The catalogue services done, ticked on the open visit of a care item before its check-out;
  // kept with the queued visit, sent with the check-out (field-queue.js).
  function toggleService(clientId, code, done) {
    update(clientId, function (v) {
      var kept = (v.services || []).filter(function (c) { return c !== code; });
      v.services = done ? (M.services || []).map(function (s) { return s[0]; }).filter(function (c) {
        return c === code || kept.indexOf(c) >= 0;
      }) : kept;
    });
    render();
  }

  function servicesBox(open) {
    var ticked = open.services || [];
    var box = el("fieldset", {"class": "services-done", id: "services-" + open.client_id}, [
      el("legend", {text: M.services_done})]);
    (M.services || []).forEach(function (service) {
      var id = "service-" + open.client_id + "-" + service[0];
      var input = el("input", {type: "checkbox", id: id, value: service[0], "class": "service-tick",
                               checked: ticked.indexOf(service[0]) >= 0});
      input.addEventListener("change", function () { toggleService(open.client_id, service[0], input.checked); });
      box.appendChild(el("label", {"class": "service-choice", "for": id}, [input, el("span", {text: service[1]})]));
    });
    return box;
  }

  function servicesLine(v) {
    var names = {};
    (M.services || []).forEach(function (s) { names[s[0]] = s[1]; });
    return v.services && v.services.length && v.check_out ? el("p", {"class": "visit-services", text: fmt(
      M.services_of, {list: v.services.map(function (c) { return names[c] || c; }).join(M.list_separator)})}) : null;
  }

  // Before a check-out sooner than the item's minimum minutes or later than its maximum (rule
  // V03): the minutes served and the bound, and the worker goes on only with a reason, sent with
  // the check-out.
  async function checkOut(open, item, cardKey) {
    var minutes = (Date.now() - new Date(open.check_in.at).getTime()) / 60000;
    var reasonNote = "";
    var warning = null, noteText = null, words = null;
    if (item && typeof item.min_minutes === "number" && item.min_minutes > 0 && minutes < item.min_minutes) {
      words = {minutes: Math.floor(minutes), min: item.min_minutes};
      warning = M.short_warning;
      noteText = M.short_note;
    } else if (item && typeof item.max_minutes === "number" && item.max_minutes > 0 && minutes > item.max_minutes) {
      words = {minutes: Math.floor(minutes), max: item.max_minutes};
      warning = M.long_warning;
      noteText = M.long_note;
    }
    if (warning) {
      busy[cardKey] = true;
      render();
      var reason = await Q.askReason(M, fmt(warning, words), M.proceed_check_out);
      busy[cardKey] = false;
      if (reason === null) {
        note(cardKey, M.cancelled, "info");
        render();
        focusCard(cardKey);
        return;
      }
      reasonNote = fmt(noteText, Object.assign(words, {reason: reason}));
    }
    withPosition(cardKey, function (pos) {
      update(open.client_id, function (v) {
        v.check_out = {at: pos.at, lat: pos.lat, lon: pos.lon};
        if (reasonNote) { v.check_out_note = reasonNote; }
      });
    });
  }

  function addPhoto(clientId, cardKey, input) {
    Q.readPhoto(M, input, function (dataUrl) {
      update(clientId, function (v) { v.photos.push({key: uuid(), data_url: dataUrl}); });
    }, function (text, kind) { note(cardKey, text, kind); }).then(function (read) {
      if (read) {
        render();
        flush();
      }
    });
  }

  function discard(clientId) {
    Q.discard(M.discard_confirm, queue, clientId, render);
  }

  // --- rendering -------------------------------------------------------------------------------

  function cardKeyOf(beneficiaryId, contractId) {
    return "card-" + beneficiaryId + "-" + contractId;
  }

  function stateOf(v) {
    if (v.problem) {
      return v.problem.kind;
    }
    if (hasWork(v)) {
      return queue.isFlushing() ? "sending" : "queued";
    }
    return "sent";
  }

  function visitRow(v, cardKey, home) {
    var state = stateOf(v);
    var times = clock(v.check_in.at) + (v.check_out ? "–" + clock(v.check_out.at) : "");
    var facts = [];
    if (v.check_in.accuracy_m !== undefined) {
      facts.push(fmt(M.accuracy, {metres: Math.round(v.check_in.accuracy_m)}));
    }
    if (home && typeof home.lat === "number" && typeof home.lon === "number") {
      facts.push(fmt(M.from_home, {metres: Math.round(Q.metresBetween(home.lat, home.lon, v.check_in.lat, v.check_in.lon))}));
    }
    var stateText = {queued: M.queued, sending: M.sending, sent: M.sent, conflict: M.conflict,
                     error: fmt(M.error, {reason: v.problem ? v.problem.detail : ""})}[state];
    var row = el("li", {"class": "visit-row visit-" + state, "data-client-id": v.client_id, "data-state": state,
                        "data-status": v.status || "", "data-visit-id": v.id === null ? "" : v.id}, [
      el("p", {"class": "visit-times", text: fmt(M.visit_of, {time: times})}),
      facts.length ? el("p", {"class": "visit-facts", text: facts.join(" · ")}) : null,
      el("p", {"class": "visit-state", text: stateText}),
      servicesLine(v),
      v.status ? el("p", {"class": "visit-status status-" + v.status, text: M.status[v.status] || v.status}) : null,
    ]);
    if (v.exceptions && v.exceptions.length) {
      row.appendChild(el("ul", {"class": "visit-exceptions"}, v.exceptions.map(function (e) {
        return el("li", {text: e.code + " " + e.message});
      })));
    }
    var photoCount = v.photos_sent + v.photos.length;
    if (!v.problem && v.check_out) {
      row.appendChild(Q.photoLine(M, "photo-" + v.client_id, photoCount, function (input) {
        addPhoto(v.client_id, cardKey, input);
      }));
    } else if (!v.problem) {  // the open visit's camera button is the big one on its card
      row.appendChild(el("p", {"class": "photo-line"}, [
        el("span", {"class": "photo-count", text: fmt(M.photos, {count: photoCount})})]));
    }
    [v.check_in_note, v.check_out_note].forEach(function (text) {
      if (text) { row.appendChild(el("p", {"class": "visit-reason", text: text})); }
    });
    if (v.problem) {
      var drop = el("button", {type: "button", id: "discard-" + v.client_id, "class": "button button-danger discard-button",
                               text: M.discard});
      drop.addEventListener("click", function () { discard(v.client_id); });
      row.appendChild(drop);
    }
    return row;
  }

  // The running time of the open visit, refreshed every second by tick(); a hidden live region
  // says the minutes, changed at most once a minute (not every second).
  function timerLine(open) {
    var since = new Date(open.check_in.at).getTime();
    var minutes = Math.floor((Date.now() - since) / 60000);
    return el("p", {"class": "service-timer", "data-since": String(since), "data-minute": String(minutes)}, [
      el("span", {"class": "timer-clock", "aria-hidden": "true", text: fmt(M.timer, {time: Q.elapsedText(Date.now() - since)})}),
      el("span", {"class": "visually-hidden timer-live", "aria-live": "polite",
                  text: fmt(M.timer_minutes, {minutes: minutes})})]);
  }

  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll(".service-timer"), function (line) {
      var since = Number(line.getAttribute("data-since"));
      line.querySelector(".timer-clock").textContent = fmt(M.timer, {time: Q.elapsedText(Date.now() - since)});
      var minutes = Math.floor((Date.now() - since) / 60000);
      if (String(minutes) !== line.getAttribute("data-minute")) {
        line.setAttribute("data-minute", String(minutes));
        line.querySelector(".timer-live").textContent = fmt(M.timer_minutes, {minutes: minutes});
      }
    });
  }

  // Today's finished visits of a card: said as done, with their times, instead of a big 签到; a
  // further visit today only through a small link and a confirmation.
  function donePanel(key, finished) {
    var link = el("button", {type: "button", id: key + "-again", "class": "link-button again-link", text: M.again});
    link.addEventListener("click", function () {
      if (window.confirm(M.again_confirm)) {
        again[key] = true;
        render();
        var button = document.getElementById(key + "-action");
        if (button) { button.focus(); }
      }
    });
    return el("div", {"class": "done-panel", id: key + "-done"}, [
      el("p", {"class": "done-badge", text: M.done})].concat(finished.map(function (v) {
        return el("p", {"class": "done-times", text: fmt(M.done_times, {start: clock(v.check_in.at), end: clock(v.check_out.at)})});
      })).concat([el("p", {"class": "again-line"}, [link])]));
  }

  function card(assignment, visits) {
    var person = assignment.beneficiary;
    var key = cardKeyOf(person.id, assignment.contract_id);
    var items = assignment.service_items || [];
    var open = visits.filter(function (v) { return !v.check_out && !v.problem; })[0];
    var today = localDay();
    var finished = visits.filter(function (v) { return v.check_out && !v.problem && v.day === today; });
    var done = !open && finished.length > 0 && !again[key];
    var node = el("li", {"class": "assignment-card" + (done ? " is-done" : "") + (open ? " is-open" : ""), id: key,
                         "data-beneficiary-id": person.id}, Q.personLines(person));
    if (done) {
      node.appendChild(donePanel(key, finished));
    }
    var select = null;
    if (!open && !done && items.length > 1) {
      var selectId = key + "-item";
      select = el("select", {id: selectId, "class": "item-select"}, items.map(function (item) {
        return el("option", {value: item.code, text: item.name});
      }));
      node.appendChild(el("p", {"class": "field"}, [el("label", {"for": selectId, text: M.service_item}), select]));
    } else if (items.length === 1 && !open && !done) {
      node.appendChild(el("p", {"class": "item-name", text: items[0].name}));
    }
    var item = open ? items.filter(function (i) { return i.code === open.service_item; })[0] : null;
    if (open) {
      node.appendChild(timerLine(open));
      if (item && item.unit === "visit") {
        node.appendChild(servicesBox(open));
      }
      if (item && item.photo_required && open.photos_sent + open.photos.length === 0) {
        node.appendChild(el("p", {"class": "photo-hint", text: M.photo_required}));
      }
      var photoId = "photo-" + open.client_id;
      var input = el("input", {type: "file", accept: "image/*", capture: "environment", id: photoId,
                               "class": "visually-hidden photo-input"});
      input.addEventListener("change", function () { addPhoto(open.client_id, key, input); });
      node.appendChild(el("p", {"class": "photo-big-line"}, [
        el("label", {"class": "button big-button photo-button photo-big", "for": photoId, text: M.take_photo}), input]));
    }
    if (!done) {
      var action = el("button", {type: "button", id: key + "-action", "class": "button big-button " + (open ? "check-out" : "check-in"),
                                 text: open ? M.check_out : M.check_in, disabled: busy[key] || items.length === 0});
      action.addEventListener("click", function () {
        if (open) {
          checkOut(open, item, key);
        } else {
          checkIn(assignment, key, select ? select.value : items[0].code);
        }
      });
      node.appendChild(action);
    }
    node.appendChild(Q.noteLine(cardNotes[key]));
    if (visits.length) {
      node.appendChild(el("ul", {"class": "visit-list"}, visits.map(function (v) {
        return visitRow(v, key, person);
      })));
    }
    return node;
  }

  var lastRendered = null;

  // Rebuilds the list, but only when something shown has changed: a node replaced under the
  // worker's finger would swallow the tap.
  function render() {
    var visits = load().visits;
    var flushing = queue.isFlushing();
    var sessionEnded = queue.sessionEnded();
    var signature = JSON.stringify([visits, assignments, busy, cardNotes, again, flushing, sessionEnded, navigator.onLine,
                                    localDay()]);
    if (signature === lastRendered) {
      return;
    }
    lastRendered = signature;
    var focusedId = document.activeElement ? document.activeElement.id : "";
    Q.renderCards(M, assignments, visits, card, "other-visits", function (v) { return visitRow(v, "other-visits", null); },
                  inQueue);
    var queued = visits.filter(inQueue).length;
    Q.renderStatus(main, M, queued, queued === 0, flushing, sessionEnded);
    Q.refocus(focusedId);
  }

  // --- assignments -----------------------------------------------------------------------------

  function loadAssignments() {
    return Q.loadAssignments({M: M, queue: queue, key: ASSIGNMENTS_KEY, render: render,
                              use: function (list) { assignments = list; },
                              stopped: function () { return signingOut; },
                              endSession: function () { queue.endSession(); }});
  }

  // --- start -----------------------------------------------------------------------------------

  // Signing out forgets the day's saved lists of the field pages and their offline copy; unsent visits stay.
  Q.start({key: KEY, prefix: "field:", flush: flush, loadAssignments: loadAssignments, render: render,
           signOut: function () { signingOut = true; }});

  queue.prune();
  loadAssignments().then(function () {
    flush();
    load().visits.forEach(function (v) {
      if (v.id !== null && v.checkout_sent && (!v.status || v.status === "pending")) {
        poll(v.client_id);
      }
    });
  });

  window.setInterval(tick, 1000);
  Q.registerWorker(main);
})();
