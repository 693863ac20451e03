// The offline queue of the field-worker app (/field/), used by field.js, and the helpers the three
// field pages share (field.js, field-assessment.js, field-survey.js): a list of items kept in
// localStorage, photos for the queue, the phone's position, today's assignments, the page's
// elements, its status bar and its start.
//
// Every visit is made in the browser with a client id and written to localStorage before anything
// is sent; it leaves the queue only when the server has answered 200/201 for each of its parts
// (the visit, its check-out, its photos). A resend reuses the client id and the very same body, so
// the server answers 200 with the visit it already has instead of making a second one. A 409 is
// kept as a conflict and any other refusal as an error, until the worker discards the visit.
window.FieldQueue = (function () {
  "use strict";

  var DEVICE_KEY = "field:device";
  var POLL_DELAYS = [1000, 2000, 3000, 5000, 8000, 13000, 21000];

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function localDay(date) {
    var d = date || new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // "%(name)s" in a translated message replaced by params.name.
  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (all, name) {
      return params && params[name] !== undefined ? params[name] : all;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attrs[name];
      } else if (attrs[name] !== null && attrs[name] !== undefined && attrs[name] !== false) {
        node.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
      }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  // Day and time of an ISO time, in the page's language.
  function dayClock(iso) {
    return new Date(iso).toLocaleString(document.documentElement.lang || undefined,
                                        {month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
  }

  // The position's accuracy in metres to a tenth, or null when the browser gave none.
  function accuracyOf(coords) {
    return typeof coords.accuracy === "number" && isFinite(coords.accuracy) ? Math.round(coords.accuracy * 10) / 10 : null;
  }

  // --- a list kept in localStorage ---------------------------------------------------------------
  // ``{<name>: [items with a client_id]}`` under ``key``: always read fresh and written at once, so
  // that two tabs of the app never undo each other.
  function store(key, name) {
    function load() {
      try {
        var state = JSON.parse(window.localStorage.getItem(key) || "null");
        if (state && Array.isArray(state[name])) {
          return state;
        }
      } catch (e) { /* a damaged entry is replaced below */ }
      var empty = {};
      empty[name] = [];
      return empty;
    }

    function save(state) {
      window.localStorage.setItem(key, JSON.stringify(state));  // may throw QuotaExceededError
    }

    function find(clientId) {
      return load()[name].filter(function (x) { return x.client_id === clientId; })[0] || null;
    }

    // Apply ``change`` to the stored item and store it; null when it has been discarded meanwhile.
    function update(clientId, change) {
      var state = load();
      var item = state[name].filter(function (x) { return x.client_id === clientId; })[0];
      if (!item) {
        return null;
      }
      change(item);
      save(state);
      return item;
    }

    // Keeps what is still in the queue (``inQueue``) and what was made today.
    function prune(inQueue) {
      var today = localDay();
      var state = load();
      var kept = state[name].filter(function (x) { return inQueue(x) || x.day === today; });
      if (kept.length !== state[name].length) {
        state[name] = kept;
        save(state);
      }
    }

    function remove(clientId) {
      var state = load();
      state[name] = state[name].filter(function (x) { return x.client_id !== clientId; });
      save(state);
    }

    return {load: load, save: save, find: find, update: update, prune: prune, remove: remove};
  }

  // Camera photos are shrunk and re-encoded (which also drops their EXIF location) so that a
  // few of them fit in a queue in localStorage while the phone is offline.
  var PHOTO_MAX_SIDE = 1600;

  async function photoDataUrl(file) {
    var image;
    var release = function () {};
    if (window.createImageBitmap) {
      image = await window.createImageBitmap(file);
      release = function () { image.close(); };
    } else {
      var url = URL.createObjectURL(file);
      image = await new Promise(function (resolve, reject) {
        var img = new Image();
        img.addEventListener("load", function () { resolve(img); });
        img.addEventListener("error", function () { reject(new Error("image")); });
        img.src = url;
      });
      release = function () { URL.revokeObjectURL(url); };
    }
    try {
      var scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(image.width * scale));
      canvas.height = Math.max(1, Math.round(image.height * scale));
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.8);
    } finally {
      release();
    }
  }

  function dataUrlToBlob(dataUrl) {
    var comma = dataUrl.indexOf(",");
    var type = dataUrl.slice(5, dataUrl.indexOf(";"));
    var binary = window.atob(dataUrl.slice(comma + 1));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return new Blob([bytes], {type: type});
  }

  // The phone's position, or an Error whose message is the page's own sentence for the error's
  // code (``M``: the page's translated messages): the browser's message is in its own language.
  function locate(M) {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) {
        reject(ownError(M.no_geolocation));
        return;
      }
      navigator.geolocation.getCurrentPosition(resolve, function (error) {
        var text = {1: M.position_denied, 2: M.position_unavailable, 3: M.position_timeout}[error && error.code];
        reject(ownError(text || M.position_failed));
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
    });
  }

  // Metres between two points on the Earth (haversine, as portal/core/geo.py).
  function metresBetween(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad;
    var dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
            Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 6371008.8 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
  }

  // A distance in words: "约 450 米" below a kilometre, else "约 1.2 公里" (``M.metres_text``,
  // ``M.km_text``).
  function distanceText(M, metres) {
    return metres < 1000 ? fmt(M.metres_text, {metres: Math.round(metres)})
                         : fmt(M.km_text, {km: (Math.round(metres / 100) / 10).toFixed(1)});
  }

  // The page's sentence for an error thrown while recording (never the browser's own message, which
  // is in the browser's language): the page's own errors (``locate``) keep theirs, a full storage
  // says so, anything else is ``M.unexpected``.
  function errorText(M, error) {
    if (error && error.name === "QuotaExceededError") {
      return M.storage_full;
    }
    return error && error.ours ? error.message : M.unexpected;
  }

  function ownError(text) {
    var error = new Error(text);
    error.ours = true;
    return error;
  }

  // Asks the worker before going on against a rule (V02 distance, V03 duration): a modal dialog
  // saying ``warning``, a choice of the reasons ``M.reasons`` (the last, "other", needs words typed)
  // and two buttons. Resolves to the reason given, or null when the worker cancelled. ``plain``:
  // no reason asked (where the record has nowhere to carry one); going on resolves to "".
  function askReason(M, warning, proceedText, plain) {
    return new Promise(function (resolve) {
      var dialog = el("dialog", {"class": "warning-dialog", id: "warning-dialog", "aria-labelledby": "warning-title",
                                 "aria-describedby": "warning-text"});
      var choices = (M.reasons || []).map(function (text, index) {
        var id = "warning-reason-" + index;
        var input = el("input", {type: "radio", name: "warning-reason", id: id, value: text});
        return el("label", {"class": "reason-choice", "for": id}, [input, el("span", {text: text})]);
      });
      var other = el("textarea", {id: "warning-other", "class": "warning-other", rows: "2", maxlength: "300"});
      var problem = el("p", {"class": "note-error", id: "warning-problem", role: "alert"});
      var go = el("button", {type: "button", id: "warning-proceed", "class": "button big-button check-in",
                             text: proceedText || M.proceed});
      var stop = el("button", {type: "button", id: "warning-cancel", "class": "button button-secondary",
                               text: M.cancel});
      dialog.appendChild(el("h2", {id: "warning-title", text: M.warning_title}));
      dialog.appendChild(el("p", {id: "warning-text", "class": "warning-text", text: warning}));
      if (!plain) {
        dialog.appendChild(el("fieldset", {"class": "reason-choices"}, [el("legend", {text: M.reason_legend})]
          .concat(choices)));
        dialog.appendChild(el("p", {"class": "field"}, [el("label", {"for": "warning-other", text: M.reason_other}), other]));
        dialog.appendChild(problem);
      }
      dialog.appendChild(el("p", {"class": "warning-buttons"}, [go, stop]));
      var settled = false;
      function finish(value) {
        if (settled) { return; }
        settled = true;
        if (dialog.open) { dialog.close(); }
        dialog.remove();
        resolve(value);
      }
      go.addEventListener("click", function () {
        var picked = dialog.querySelector('input[name="warning-reason"]:checked');
        var typed = other.value.trim();
        var reason = typed ? (picked ? picked.value + M.list_separator + typed : typed) : (picked ? picked.value : "");
        if (!reason && !plain) {
          problem.textContent = M.reason_needed;
          other.focus();
          return;
        }
        finish(reason);
      });
      stop.addEventListener("click", function () { finish(null); });
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(null); });
      document.body.appendChild(dialog);
      if (typeof dialog.showModal === "function") {
        dialog.showModal();
      } else {
        dialog.setAttribute("open", "");
      }
      (plain ? go : choices[0] ? choices[0].querySelector("input") : other).focus();
    });
  }

  // Before a check-in beyond the geofence radius from ``place`` (rule V02: ``radius``, else the
  // bureau's ``M.geofence_radius_m``): the distance and the range, and the worker goes on only with a
  // reason. ``pos``: {lat, lon}; ``texts``: the page's own {warning, note, proceed}, else those of a
  // home. Resolves to the note to send with the record ("" within the range or where the place has
  // no position), or null when the worker cancelled.
  async function farReason(M, place, pos, radius, texts) {
    var limit = radius || M.geofence_radius_m;
    if (!limit || !place || typeof place.lat !== "number" || typeof place.lon !== "number") {
      return "";
    }
    var metres = metresBetween(place.lat, place.lon, pos.lat, pos.lon);
    if (metres <= limit) {
      return "";
    }
    var t = texts || {warning: M.far_warning, note: M.far_note, proceed: M.proceed_check_in};
    var words = {distance: distanceText(M, metres), radius: limit};
    var reason = await askReason(M, fmt(t.warning, words), t.proceed, !t.note);
    return reason === null ? null : t.note ? fmt(t.note, Object.assign(words, {reason: reason})) : "";
  }

  // The notes a worker typed with the far check-in's reason after them, never longer than the
  // server's limit (NOTES_LIMIT characters, the schema's maxLength of an assessment's or a survey's
  // notes): the typed notes are cut, the reason kept whole. The notes boxes stop at NOTES_TYPED so
  // that in practice nothing is cut; this is the safety net before a record is queued offline.
  var NOTES_LIMIT = 4000, NOTES_TYPED = 3500;
  function notesWithReason(typed, reasonNote) {
    typed = (typed || "").trim();
    if (!reasonNote) {
      return typed.slice(0, NOTES_LIMIT);
    }
    var room = NOTES_LIMIT - reasonNote.length - 1;
    typed = room > 0 ? Array.from(typed).slice(0, room).join("").trim() : "";
    return [typed, reasonNote].filter(Boolean).join("\n").slice(0, NOTES_LIMIT);
  }

  // A running time: "mm:ss" under an hour, else "h:mm:ss".
  function elapsedText(ms) {
    var total = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
    var mmss = String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mmss : mmss;
  }

  // --- sending ----------------------------------------------------------------------------------

  // The server's refusal as one line for the worker.
  function problemText(r) {
    var data = r.data || {};
    var parts = [data.detail || data.title || String(r.status)];
    Object.keys(data.errors || {}).forEach(function (field) {
      parts.push(field + ": " + [].concat(data.errors[field]).join(" "));
    });
    return parts.join(" ");
  }

  // Signed out, or the page's CSRF token no longer valid.
  function isSessionProblem(r) {
    if (r.status === 401 || r.status === 403) {
      return true;
    }
    var detail = r.data && r.data.detail ? String(r.data.detail) : "";
    return r.status === 400 && /csrf/i.test(detail);
  }

  // Whether a failed request stops the round with the item kept as it is: network or server
  // trouble (retried later), or the session has ended (``endSession()`` is called). Otherwise it is
  // a refusal, for the page to keep with the item for the worker.
  function stopsRound(r, endSession) {
    if (r.network || r.status >= 500 || r.status === 429 || r.status === 0) {
      return true;
    }
    if (isSessionProblem(r)) {
      endSession();
      return true;
    }
    return false;
  }

  // Sends the items of ``ids`` one after another (``send`` resolves false to stop the round),
  // calling ``after`` after each, until done or the phone is offline.
  async function sendEach(ids, send, after) {
    for (var i = 0; i < ids.length; i += 1) {
      if (!(await send(ids[i])) || !navigator.onLine) {
        return;
      }
      after();
    }
  }

  // One page's sending: a round sends what ``o.owed()`` lists (client ids) with ``o.send``, one
  // round at a time, across tabs too where the browser has Web Locks (``key``), none while offline
  // or once ``o.ended()`` (signed out). ``o.render`` runs as a round starts, goes on and ends; then
  // ``o.after``, if given.
  function sender(key, o) {
    var flushing = false;
    function flush() {
      if (flushing || o.ended() || !navigator.onLine || o.owed().length === 0) {
        o.render();
        return Promise.resolve();
      }
      flushing = true;
      o.render();
      return exclusive(key, function () { return sendEach(o.owed(), o.send, o.render); }).then(function () {
        flushing = false;
        o.render();
        if (o.after) { o.after(); }
      });
    }
    return {flush: flush, isFlushing: function () { return flushing; }};
  }

  // The queue of one worker in one bureau: ``key`` names its localStorage entry; ``onChange`` is
  // called whenever what the page shows may have changed.
  function create(key, csrfToken, onChange) {
    var KEY = key;
    var render = onChange;
    var sessionEnded = false;
    var polling = {};

    var items = store(KEY, "visits");
    var load = items.load, save = items.save, find = items.find, update = items.update;

    function deviceId() {
      var id = window.localStorage.getItem(DEVICE_KEY);
      if (!id) {
        id = "web-" + uuid();
        window.localStorage.setItem(DEVICE_KEY, id);
      }
      return id;
    }

    function hasWork(v) {
      return v.id === null || Boolean(v.check_out && !v.checkout_sent) || v.photos.length > 0;
    }

    // In the queue: anything the server has not fully answered, and refusals until discarded.
    function inQueue(v) {
      return Boolean(v.problem) || hasWork(v);
    }

    function prune() {
      items.prune(inQueue);
    }

    // --- the API ---------------------------------------------------------------------------------

    function api(method, url, body) {
      var headers = {"Accept": "application/json", "X-CSRFToken": csrfToken, "X-Visit-Source": "web"};
      var payload;
      if (body instanceof FormData) {
        payload = body;
      } else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        payload = JSON.stringify(body);
      }
      var controller = new AbortController();
      var timer = window.setTimeout(function () { controller.abort(); }, 30000);
      return window.fetch(url, {method: method, headers: headers, body: payload, credentials: "same-origin",
                                cache: "no-store", signal: controller.signal})
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (data) {
            return {ok: response.ok, status: response.status, data: data};
          });
        }, function () {
          return {ok: false, status: 0, network: true, data: null};
        })
        .finally(function () { window.clearTimeout(timer); });
    }

    // What a failed request means for the queue: false stops this round (network, session, server
    // trouble: the item stays and is retried); a refusal marks the visit for the worker.
    function failed(clientId, r) {
      if (stopsRound(r, function () { sessionEnded = true; })) {
        return false;
      }
      update(clientId, function (v) {
        v.problem = r.status === 409 ? {kind: "conflict", detail: problemText(r)}
                                     : {kind: "error", detail: problemText(r)};
      });
      return true;
    }

    function createBody(v) {
      var body = {client_id: v.client_id, beneficiary_id: v.beneficiary_id, service_item: v.service_item,
                  device_id: v.device_id, check_in: v.check_in};
      if (v.check_out) {
        body.check_out = v.check_out;  // still unsent: one request carries both
        if (v.services && v.services.length) {
          body.services = v.services;  // the services ticked at the check-out
        }
      }
      // why the worker went on against a warning (check-in far from home, early check-out)
      var notes = [v.check_in_note, v.check_out ? v.check_out_note : ""].filter(Boolean).join("\n");
      if (notes) {
        body.notes = notes;
      }
      return body;
    }

    // The check-out request: where and when, and the services ticked (when any).
    function checkOutBody(v) {
      var body = {at: v.check_out.at, lat: v.check_out.lat, lon: v.check_out.lon};
      if (v.services && v.services.length) {
        body.services = v.services;
      }
      if (v.check_out_note) {
        body.note = v.check_out_note;  // why the worker checked out before the item's minimum
      }
      return body;
    }

    function takeServerState(v, data) {
      if (data && typeof data === "object") {
        if (data.id !== undefined) { v.id = data.id; }
        if (data.status) { v.status = data.status; }
        if (Array.isArray(data.exceptions)) {
          v.exceptions = data.exceptions.map(function (e) { return {code: e.code, message: e.message}; });
        }
      }
    }

    // Send what one visit still owes the server, in order: the visit, its check-out, its photos.
    async function sendVisit(clientId) {
      var v = find(clientId);
      if (!v || v.problem || !hasWork(v)) {
        return true;
      }
      if (v.id === null) {
        // The body is frozen at the first attempt: a resend must be byte-for-byte the same visit.
        var body = v.body || createBody(v);
        if (!v.body && !update(clientId, function (x) { x.body = body; })) {
          return true;
        }
        var created = await api("POST", "/api/v1/visits", body);
        if (!created.ok) {
          return failed(clientId, created);
        }
        v = update(clientId, function (x) {
          takeServerState(x, created.data);
          if (body.check_out) { x.checkout_sent = true; }
        });
        if (!v) { return true; }
        if (v.checkout_sent) { poll(clientId); }
      }
      if (v.check_out && !v.checkout_sent) {
        var out = await api("POST", "/api/v1/visits/" + v.id + "/check-out", checkOutBody(v));
        if (!out.ok) {
          return failed(clientId, out);
        }
        v = update(clientId, function (x) { takeServerState(x, out.data); x.checkout_sent = true; });
        if (!v) { return true; }
        poll(clientId);
      }
      while (v && v.photos.length > 0) {
        var photo = v.photos[0];
        var form = new FormData();
        form.append("file", dataUrlToBlob(photo.data_url), "photo-" + photo.key + ".jpg");
        var sent = await api("POST", "/api/v1/visits/" + v.id + "/photos", form);
        if (!sent.ok) {
          return failed(clientId, sent);
        }
        v = update(clientId, function (x) {
          x.photos = x.photos.filter(function (p) { return p.key !== photo.key; });
          x.photos_sent += 1;
        });
        if (v && v.checkout_sent) { poll(clientId); }
      }
      return true;
    }

    var rounds = sender(KEY, {send: sendVisit, render: render, ended: function () { return sessionEnded; },
                              owed: function () {
                                return load().visits.filter(function (v) { return !v.problem && hasWork(v); })
                                                    .map(function (v) { return v.client_id; });
                              }});
    var flush = rounds.flush;

    // After a check-out the rules run on the server; ask a few times for the result.
    function poll(clientId, attempt) {
      attempt = attempt || 0;
      if (polling[clientId] && attempt === 0) {
        return;
      }
      polling[clientId] = true;
      window.setTimeout(async function () {
        var v = find(clientId);
        if (!v || v.id === null || !navigator.onLine) {
          delete polling[clientId];
          return;
        }
        var r = await api("GET", "/api/v1/visits/" + v.id);
        if (r.ok) {
          update(clientId, function (x) { takeServerState(x, r.data); });
          render();
        }
        var now = find(clientId);
        if (now && now.status === "pending" && attempt + 1 < POLL_DELAYS.length && !(r.status >= 400 && r.status < 500)) {
          poll(clientId, attempt + 1);
        } else {
          delete polling[clientId];
        }
      }, POLL_DELAYS[attempt]);
    }

    return {load: load, save: save, find: find, update: update, remove: items.remove, deviceId: deviceId, hasWork: hasWork,
            inQueue: inQueue, prune: prune, api: api, problemText: problemText, isSessionProblem: isSessionProblem,
            flush: flush, poll: poll,
            isFlushing: rounds.isFlushing,
            sessionEnded: function () { return sessionEnded; },
            endSession: function () { sessionEnded = true; }};
  }

  // Signing out forgets what the field pages saved for the day — every localStorage key under
  // "field:<scope>:", "field-assessments:<scope>:" or "field-surveys:<scope>:" (scope: "<user
  // id>:<bureau code>"; the survey being typed among them) — and the offline copy of the pages:
  // the next person on this phone must not see them. The queues themselves ("field:<scope>",
  // "field-assessments:<scope>", "field-surveys:<scope>": unsent work, keyed to its worker) stay.
  // ``onStart`` runs first (the page stops saving from then on).
  function bindSignOut(form, scope, onStart) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      onStart();
      var prefixes = ["field:" + scope + ":", "field-assessments:" + scope + ":", "field-surveys:" + scope + ":"];
      var doomed = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (prefixes.some(function (p) { return key.indexOf(p) === 0; })) { doomed.push(key); }
      }
      doomed.forEach(function (key) { window.localStorage.removeItem(key); });
      var cleared = window.caches ? window.caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf("field-app-") === 0; })
                                .map(function (n) { return window.caches.delete(n); }));
      }) : Promise.resolve();
      var timeout = new Promise(function (resolve) { window.setTimeout(resolve, 2000); });
      Promise.race([cleared, timeout]).catch(function () { return null; }).then(function () { form.submit(); });
    });
  }

  // --- what the three pages share -------------------------------------------------------------

  // The page's main element, its translated messages (``M``), its queue key and CSRF token; null
  // on a page without them.
  function page() {
    var main = document.getElementById("main");
    var messagesBlock = document.getElementById("field-messages");
    if (!main || !messagesBlock || !main.hasAttribute("data-queue-key")) {
      return null;
    }
    var csrfMeta = document.querySelector('meta[name="csrf-token"]');
    return {main: main, M: JSON.parse(messagesBlock.textContent), key: main.getAttribute("data-queue-key"),
            csrf: csrfMeta ? csrfMeta.getAttribute("content") : ""};
  }

  // One send at a time, across tabs too where the browser has Web Locks; a failure is swallowed
  // (what was not sent stays in the queue and is retried later).
  function exclusive(key, run) {
    var running = navigator.locks
      ? navigator.locks.request(key, {ifAvailable: true}, function (lock) { return lock ? run() : null; })
      : run();
    return Promise.resolve(running).catch(function () { /* kept; retried later */ });
  }

  // The photo chosen in ``input``, shrunk, given to ``take``; ``say(text, kind)`` tells the card how
  // it went (null text: well). Resolves to false when no file was chosen, else true.
  async function readPhoto(M, input, take, say) {
    var file = input.files && input.files[0];
    if (!file) {
      return false;
    }
    try {
      take(await photoDataUrl(file));
      say(null);
    } catch (error) {
      say(error && error.name === "QuotaExceededError" ? M.storage_full : M.photo_unreadable, "error");
    }
    return true;
  }

  // Drops an item (``clientId``) from its list (a ``store``) once the worker has said yes to ``question``.
  function discard(question, list, clientId, render) {
    if (!window.confirm(question)) {
      return;
    }
    list.remove(clientId);
    render();
  }

  // The camera button, its hidden file input and the count of photos (and ``extra``, if any).
  function photoLine(M, inputId, count, onPhoto, extra) {
    var input = el("input", {type: "file", accept: "image/*", capture: "environment", id: inputId,
                             "class": "visually-hidden photo-input"});
    input.addEventListener("change", function () { onPhoto(input); });
    return el("p", {"class": "photo-line"}, [
      el("label", {"class": "button button-secondary photo-button", "for": inputId, text: M.take_photo}), input,
      el("span", {"class": "photo-count", text: fmt(M.photos, {count: count})}), extra || null]);
  }

  // A card's heading: the person's name and where they live.
  function personLines(person) {
    return [el("h2", {text: person.display_name}),
            el("p", {"class": "where", text: [person.township, person.village, person.address].filter(Boolean).join(" · ")})];
  }

  // The line under a card's button: ``noted`` is {text, kind} or nothing.
  function noteLine(noted) {
    return el("p", {"class": "card-message" + (noted ? " note-" + noted.kind : ""), role: "status",
                    text: noted ? noted.text : ""});
  }

  // The list #assignments: ``card(assignment, its items)`` for each assignment, then a card
  // ``othersId`` with a ``row`` for each queued item (``inQueue``) under none of them (yesterday's,
  // or no longer assigned).
  function renderCards(M, assignments, items, card, othersId, row, inQueue) {
    var list = document.getElementById("assignments");
    var shown = {};
    var cards = assignments.map(function (a) {
      var mine = items.filter(function (x) {
        return x.beneficiary_id === a.beneficiary.id && x.contract_id === a.contract_id;
      });
      mine.forEach(function (x) { shown[x.client_id] = true; });
      return card(a, mine);
    });
    var others = items.filter(function (x) { return !shown[x.client_id] && inQueue(x); });
    if (others.length) {
      cards.push(el("li", {"class": "assignment-card other-visits", id: othersId}, [
        el("h2", {text: M.queued}), el("ul", {"class": "visit-list"}, others.map(row))]));
    }
    list.replaceChildren.apply(list, cards);
  }

  // Focus back on the element of id ``focusedId`` (if any) after the list was rebuilt.
  function refocus(focusedId) {
    if (focusedId && document.getElementById(focusedId) && document.activeElement !== document.getElementById(focusedId)) {
      document.getElementById(focusedId).focus();
    }
  }

  // The queue panel: how many wait, online or not, the send button, and the signed-out message.
  function renderStatus(main, M, queued, nothingToSend, flushing, sessionEnded) {
    var count = document.getElementById("queue-count");
    count.textContent = fmt(M.queue, {count: queued});
    count.setAttribute("data-count", String(queued));
    var network = document.getElementById("network-state");
    network.textContent = navigator.onLine ? M.online : M.offline;
    network.className = "network-state " + (navigator.onLine ? "is-online" : "is-offline");
    document.getElementById("send-now").disabled = flushing || !navigator.onLine || nothingToSend;
    var session = document.getElementById("session-message");
    session.hidden = !sessionEnded;
    if (sessionEnded && !session.firstChild) {
      session.appendChild(document.createTextNode(M.signed_out + " "));
      session.appendChild(el("a", {href: main.getAttribute("data-login-url"), text: M.sign_in}));
    }
  }

  // Today's assignments (``o.keep`` chooses the page's among them), kept on the phone for the day;
  // offline, the list kept today. Gives the list to ``o.use(list, fresh from the server)``, says how
  // it went in #assignments-message and renders; nothing once the worker is signing out.
  async function loadAssignments(o) {
    var M = o.M;
    var message = document.getElementById("assignments-message");
    var r = navigator.onLine ? await o.queue.api("GET", "/api/v1/assignments") : {ok: false, network: true};
    if (o.stopped()) {
      return;
    }
    if (r.ok && Array.isArray(r.data)) {
      var assignments = o.keep ? o.keep(r.data) : r.data;
      o.use(assignments, true);
      try {
        window.localStorage.setItem(o.key, JSON.stringify({day: localDay(), assignments: assignments}));
      } catch (e) { /* the list is only a convenience offline */ }
      message.textContent = assignments.length ? "" : M.no_assignments;
    } else {
      if (o.queue.isSessionProblem(r)) {
        o.endSession();
      }
      var cached = null;
      try { cached = JSON.parse(window.localStorage.getItem(o.key) || "null"); } catch (e) { cached = null; }
      if (r.network && cached && cached.day === localDay()) {
        o.use(cached.assignments, false);
        message.textContent = M.assignments_cached;
      } else {
        message.textContent = fmt(M.assignments_failed, {reason: r.network ? M.offline : o.queue.problemText(r)});
      }
    }
    message.hidden = !message.textContent;
    o.render();
  }

  // The page's start: the send button, sign-out (which forgets the day's saved lists of the field
  // pages and their offline copy; the queues of unsent work stay), and sending again when the
  // phone is back online (and reloading the assignments: the saved list may be stale), when
  // another tab changed the queue, and every minute.
  function start(o) {
    document.getElementById("send-now").addEventListener("click", function () { o.flush(); });
    bindSignOut(document.getElementById("sign-out-form"), o.key.slice(o.prefix.length), o.signOut);
    window.addEventListener("online", function () {
      o.flush();
      o.loadAssignments();
    });
    window.addEventListener("offline", o.render);
    window.addEventListener("storage", function (event) {
      if (event.key === o.key) { o.render(); }
    });
    window.setInterval(function () { if (navigator.onLine) { o.flush(); } }, 60000);
  }

  // Where a record the phone made stands: its problem's kind ("conflict" / "error" …), "sending"
  // while a round runs, "queued" before the server answered (no id yet), else "sent". For the
  // records that are sent whole once (assessments, surveys, station check-ins).
  function recordState(record, sending) {
    if (record.problem) {
      return record.problem.kind;
    }
    if (record.id === null) {
      return sending.isFlushing() ? "sending" : "queued";
    }
    return "sent";
  }

  function registerWorker(main) {
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register(main.getAttribute("data-service-worker"), {scope: main.getAttribute("data-scope")})
        .catch(function () { /* the page still works online without it */ });
    }
  }

  return {create: create, uuid: uuid, localDay: localDay, photoDataUrl: photoDataUrl, dataUrlToBlob: dataUrlToBlob,
          locate: locate, bindSignOut: bindSignOut, fmt: fmt, el: el, dayClock: dayClock, accuracyOf: accuracyOf,
          store: store, page: page, readPhoto: readPhoto, discard: discard, problemText: problemText,
          isSessionProblem: isSessionProblem, stopsRound: stopsRound, sender: sender, photoLine: photoLine,
          personLines: personLines, noteLine: noteLine, renderCards: renderCards, refocus: refocus,
          renderStatus: renderStatus, loadAssignments: loadAssignments, start: start, registerWorker: registerWorker,
          recordState: recordState, metresBetween: metresBetween, distanceText: distanceText, errorText: errorText,
          askReason: askReason, elapsedText: elapsedText, farReason: farReason, notesWithReason: notesWithReason,
          NOTES_TYPED: NOTES_TYPED};
})();
