// The station check-in of the field-worker app (/field/stations/): the worker's postings of the
// day (given with the page), a big check-in button per station using the phone's position, and
// the offline queue. Every check-in is made in the browser with a client id and written to
// localStorage with its body, frozen, before anything is sent; it leaves the queue only when the
// server has answered 200/201, so a resend (after a lost connection, from another tab) reuses the
// client id and the very same body and the server answers 200 with the check-in it already has:
// each check-in is stored exactly once. A 409 is kept as a conflict and any other refusal as an
// error, until the worker discards it. The answer is shown: counted, or outside the geofence by so
// many metres (a supervisor decides). Uses FieldQueue (field-queue.js) for ids, the device id, the
// API calls, sending and the status bar. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  var Q = window.FieldQueue;
  var page = Q && Q.page();
  if (!page) {
    return;
  }
  var main = page.main, M = page.M, KEY = page.key;
  var helper = Q.create(KEY + ":api", page.csrf, function () { render(); });
  var el = Q.el, fmt = Q.fmt, localDay = Q.localDay;
  var stored = Q.store(KEY, "checkins");

  var busy = {};
  var notes = {};
  var sessionEnded = false;
  var signingOut = false;

  function owing(c) {
    return !c.problem && c.id === null;
  }

  function inQueue(c) {
    return Boolean(c.problem) || owing(c);
  }

  // --- sending ----------------------------------------------------------------------------------

  function failed(clientId, r) {
    if (Q.stopsRound(r, function () { sessionEnded = true; })) {
      return false;
    }
    stored.update(clientId, function (c) {
      c.problem = {kind: r.status === 409 ? "conflict" : "error", detail: helper.problemText(r)};
    });
    return true;
  }

  async function send(clientId) {
    var c = stored.find(clientId);
    if (!c || !owing(c)) {
      return true;
    }
    var r = await helper.api("POST", "/api/v1/station-checkins", c.body);
    if (!r.ok) {
      return failed(clientId, r);
    }
    stored.update(clientId, function (x) {
      var data = r.data || {};
      x.id = data.id;
      x.status = data.status || null;
      x.distance_m = typeof data.distance_m === "number" ? data.distance_m : null;
    });
    return true;
  }

  var sending = Q.sender(KEY, {send: send, render: function () { render(); },
                               ended: function () { return sessionEnded || signingOut; },
                               owed: function () {
                                 return stored.load().checkins.filter(owing).map(function (c) { return c.client_id; });
                               }});
  var flush = sending.flush;

  // --- checking in ------------------------------------------------------------------------------

  function note(key, text, kind) {
    notes[key] = text ? {text: text, kind: kind || "info"} : null;
  }

  // The postings running on the phone's day.
  function postingsToday() {
    var today = localDay();
    return (M.postings || []).filter(function (p) {
      return p.from_on <= today && (!p.until_on || today <= p.until_on);
    });
  }

  // Today's check-ins at a station: this phone's (but not a refused one) and the server's, each once.
  function todayAt(stationId) {
    var today = localDay();
    var local = stored.load().checkins.filter(function (c) {
      return c.station_id === stationId && c.day === today;
    });
    var ids = local.map(function (c) { return c.client_id; });
    var server = M.today === today ? (M.sent_today || []).filter(function (c) {
      return c.station_id === stationId && ids.indexOf(c.client_id) < 0;
    }).map(function (c) {
      return {client_id: c.client_id, station_id: c.station_id, body: {at: c.at}, id: true, status: c.status,
              distance_m: c.distance_m, problem: null, from_server: true};
    }) : [];
    return local.concat(server);
  }

  async function checkIn(posting) {
    var key = "station-" + posting.station_id;
    var earlier = todayAt(posting.station_id).filter(function (c) { return !c.problem; });
    if (earlier.length && !window.confirm(M.second_today)) {
      return;
    }
    busy[key] = true;
    note(key, M.locating);
    render();
    try {
      var position = await Q.locate(M);
      // beyond the station's geofence (its radius, else the bureau's) the check-in is flagged and
      // not counted unless a supervisor accepts it: said before, going on is the worker's choice
      var far = await Q.farReason(M, posting, {lat: position.coords.latitude, lon: position.coords.longitude},
                                  posting.radius_m, {warning: M.station_far_warning, note: M.station_far_note,
                                                     proceed: M.proceed_check_in});
      if (far === null) {
        note(key, M.cancelled, "info");
        return;
      }
      var body = {client_id: Q.uuid(), station_id: posting.station_id, device_id: helper.deviceId(),
                  at: new Date().toISOString(), lat: position.coords.latitude, lon: position.coords.longitude};
      if (far) {
        body.note = far;  // the reason goes with the check-in to the supervisor who decides on it
      }
      var accuracy = Q.accuracyOf(position.coords);
      if (accuracy !== null) {
        body.accuracy_m = accuracy;
      }
      var state = stored.load();
      state.checkins.push({client_id: body.client_id, station_id: posting.station_id, day: localDay(), body: body,
                           id: null, status: null, distance_m: null, problem: null});
      stored.save(state);
      note(key, null);
    } catch (error) {
      note(key, Q.errorText(M, error), "error");
    } finally {
      busy[key] = false;
      render();
    }
    flush();
  }

  // --- rendering --------------------------------------------------------------------------------

  function stateOf(c) {
    return Q.recordState(c, sending);
  }

  function resultText(c) {
    var metres = {metres: c.distance_m};
    return {counted: fmt(M.counted, metres), flagged: fmt(M.flagged, metres), accepted: M.accepted,
            rejected: M.rejected}[c.status] || "";
  }

  function checkinRow(c) {
    var state = stateOf(c);
    var text = state === "sent" ? resultText(c)
      : {queued: M.queued, sending: M.sending, conflict: M.conflict,
         error: fmt(M.error, {reason: c.problem ? c.problem.detail : ""})}[state];
    var row = el("li", {"class": "visit-row checkin-row visit-" + state + (c.status ? " checkin-" + c.status : ""),
                        "data-client-id": c.client_id, "data-state": state, "data-status": c.status || "",
                        "data-distance": c.distance_m === null || c.distance_m === undefined ? "" : String(c.distance_m)}, [
      el("p", {"class": "visit-times", text: fmt(M.checked_in_at, {time: Q.dayClock(c.body.at)})}),
      el("p", {"class": "visit-state checkin-result", role: "status", text: text})]);
    if (c.problem) {
      var drop = el("button", {type: "button", "class": "button button-danger discard-button", text: M.discard});
      drop.addEventListener("click", function () { Q.discard(M.discard_confirm, stored, c.client_id, render); });
      row.appendChild(drop);
    }
    return row;
  }

  function card(posting) {
    var key = "station-" + posting.station_id;
    var node = el("li", {"class": "assignment-card station-card", id: key, "data-station-id": posting.station_id}, [
      el("h2", {text: posting.name}),
      el("p", {"class": "where", text: [posting.code, posting.township, posting.address].filter(Boolean).join(" · ")}),
      el("p", {"class": "posted", text: posting.until_on ? fmt(M.posted_until, {day: posting.until_on}) : M.posted_open})]);
    var action = el("button", {type: "button", id: key + "-check-in", "class": "button big-button station-check-in",
                               text: M.check_in, disabled: busy[key]});
    action.addEventListener("click", function () { checkIn(posting); });
    node.appendChild(action);
    node.appendChild(Q.noteLine(notes[key]));
    var mine = todayAt(posting.station_id);
    if (mine.length) {
      node.appendChild(el("ul", {"class": "visit-list"}, mine.map(checkinRow)));
    }
    return node;
  }

  var lastRendered = null;

  // Rebuilds the list only when something shown has changed (a node replaced under a finger
  // would swallow the tap).
  function render() {
    var queued = stored.load().checkins;
    var postings = postingsToday();
    var signature = JSON.stringify([queued, postings, busy, notes, sending.isFlushing(), sessionEnded, navigator.onLine,
                                    localDay()]);
    if (signature === lastRendered) {
      return;
    }
    lastRendered = signature;
    var focusedId = document.activeElement ? document.activeElement.id : "";
    var shownStations = postings.map(function (p) { return p.station_id; });
    var cards = postings.map(card);
    var others = queued.filter(function (c) {
      return inQueue(c) && (c.day !== localDay() || shownStations.indexOf(c.station_id) < 0);
    });
    if (others.length) {
      cards.push(el("li", {"class": "assignment-card other-visits", id: "other-checkins"}, [
        el("h2", {text: M.other_queued}), el("ul", {"class": "visit-list"}, others.map(checkinRow))]));
    }
    var list = document.getElementById("assignments");
    list.replaceChildren.apply(list, cards);
    var message = document.getElementById("assignments-message");
    message.textContent = postings.length ? "" : M.no_postings;
    message.hidden = !message.textContent;
    var waiting = queued.filter(inQueue).length;
    Q.renderStatus(main, M, waiting, queued.filter(owing).length === 0, sending.isFlushing(), sessionEnded);
    Q.refocus(focusedId);
  }

  // --- start ------------------------------------------------------------------------------------

  // Signing out forgets the day's saved lists of the field pages and their offline copy; the
  // queue of unsent check-ins stays, keyed to its worker.
  Q.start({key: KEY, prefix: "field-stations:", flush: flush, loadAssignments: render, render: render,
           signOut: function () { signingOut = true; }});

  stored.prune(inQueue);
  render();
  flush();

  Q.registerWorker(main);
})();
