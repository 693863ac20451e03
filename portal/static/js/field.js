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

  // --- small helpers -------------------------------------------------------------------------

  function clock(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang || undefined,
                                            {hour: "2-digit", minute: "2-digit"});
  }

  function metresBetween(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad;
    var dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
            Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371008.8 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
  }

  // --- recording -------------------------------------------------------------------------------

  function note(cardKey, text, kind) {
    cardNotes[cardKey] = text ? {text: text, kind: kind || "info"} : null;
  }

  async function withPosition(cardKey, action) {
    busy[cardKey] = true;
    note(cardKey, M.locating);
    render();
    try {
      var position = await Q.locate(M);
      note(cardKey, null);
      action({at: new Date().toISOString(), lat: position.coords.latitude, lon: position.coords.longitude,
              accuracy: position.coords.accuracy});
    } catch (error) {
      note(cardKey, error.name === "QuotaExceededError" ? M.storage_full : error.message, "error");
    } finally {
      busy[cardKey] = false;
      render();
    }
    flush();
  }

  function checkIn(assignment, cardKey, itemCode) {
    withPosition(cardKey, function (pos) {
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
                         exceptions: []});
      save(state);
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

  function checkOut(clientId, cardKey) {
    withPosition(cardKey, function (pos) {
      update(clientId, function (v) { v.check_out = {at: pos.at, lat: pos.lat, lon: pos.lon}; });
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
      facts.push(fmt(M.from_home, {metres: Math.round(metresBetween(home.lat, home.lon, v.check_in.lat, v.check_in.lon))}));
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
    if (!v.problem) {
      row.appendChild(Q.photoLine(M, "photo-" + v.client_id, photoCount, function (input) {
        addPhoto(v.client_id, cardKey, input);
      }));
    }
    if (v.problem) {
      var drop = el("button", {type: "button", id: "discard-" + v.client_id, "class": "button button-danger discard-button",
                               text: M.discard});
      drop.addEventListener("click", function () { discard(v.client_id); });
      row.appendChild(drop);
    }
    return row;
  }

  function card(assignment, visits) {
    var person = assignment.beneficiary;
    var key = cardKeyOf(person.id, assignment.contract_id);
    var items = assignment.service_items || [];
    var open = visits.filter(function (v) { return !v.check_out && !v.problem; })[0];
    var node = el("li", {"class": "assignment-card", id: key, "data-beneficiary-id": person.id}, Q.personLines(person));
    var select = null;
    if (!open && items.length > 1) {
      var selectId = key + "-item";
      select = el("select", {id: selectId, "class": "item-select"}, items.map(function (item) {
        return el("option", {value: item.code, text: item.name});
      }));
      node.appendChild(el("p", {"class": "field"}, [el("label", {"for": selectId, text: M.service_item}), select]));
    } else if (items.length === 1 && !open) {
      node.appendChild(el("p", {"class": "item-name", text: items[0].name}));
    }
    var action = el("button", {type: "button", id: key + "-action", "class": "button big-button " + (open ? "check-out" : "check-in"),
                               text: open ? M.check_out : M.check_in, disabled: busy[key] || items.length === 0});
    action.addEventListener("click", function () {
      if (open) {
        checkOut(open.client_id, key);
      } else {
        checkIn(assignment, key, select ? select.value : items[0].code);
      }
    });
    node.appendChild(action);
    if (open) {
      var item = items.filter(function (i) { return i.code === open.service_item; })[0];
      if (item && item.photo_required && open.photos_sent + open.photos.length === 0) {
        node.appendChild(el("p", {"class": "photo-hint", text: M.photo_required}));
      }
      if (item && item.unit === "visit") {
        node.insertBefore(servicesBox(open), action);
      }
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
    var signature = JSON.stringify([visits, assignments, busy, cardNotes, flushing, sessionEnded, navigator.onLine]);
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

  Q.registerWorker(main);
})();
