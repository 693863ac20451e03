// The offline queue of the field-worker app (/field/), used by field.js, and the helpers it shares
// with the assessment form (field-assessment.js): photos for the queue, the phone's position.
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
        reject(new Error(M.no_geolocation));
        return;
      }
      navigator.geolocation.getCurrentPosition(resolve, function (error) {
        var text = {1: M.position_denied, 2: M.position_unavailable, 3: M.position_timeout}[error && error.code];
        reject(new Error(text || M.position_failed));
      }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
    });
  }

  // The queue of one worker in one bureau: ``key`` names its localStorage entry; ``onChange`` is
  // called whenever what the page shows may have changed.
  function create(key, csrfToken, onChange) {
    var KEY = key;
    var render = onChange;
    var flushing = false;
    var sessionEnded = false;
    var polling = {};

    // --- the queue in localStorage ---------------------------------------------------------------
    // Always read fresh and written at once, so that two tabs of the app never undo each other.

    function load() {
      try {
        var state = JSON.parse(window.localStorage.getItem(KEY) || "null");
        if (state && Array.isArray(state.visits)) {
          return state;
        }
      } catch (e) { /* a damaged entry is replaced below */ }
      return {visits: []};
    }

    function save(state) {
      window.localStorage.setItem(KEY, JSON.stringify(state));  // may throw QuotaExceededError
    }

    function find(clientId) {
      return load().visits.filter(function (v) { return v.client_id === clientId; })[0] || null;
    }

    // Apply ``change`` to the stored visit and store it; null when it has been discarded meanwhile.
    function update(clientId, change) {
      var state = load();
      var visit = state.visits.filter(function (v) { return v.client_id === clientId; })[0];
      if (!visit) {
        return null;
      }
      change(visit);
      save(state);
      return visit;
    }

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
      var today = localDay();
      var state = load();
      var kept = state.visits.filter(function (v) { return inQueue(v) || v.day === today; });
      if (kept.length !== state.visits.length) {
        state.visits = kept;
        save(state);
      }
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

    function problemText(r) {
      var data = r.data || {};
      var parts = [data.detail || data.title || String(r.status)];
      Object.keys(data.errors || {}).forEach(function (field) {
        parts.push(field + ": " + [].concat(data.errors[field]).join(" "));
      });
      return parts.join(" ");
    }

    function isSessionProblem(r) {
      if (r.status === 401 || r.status === 403) {
        return true;
      }
      var detail = r.data && r.data.detail ? String(r.data.detail) : "";
      return r.status === 400 && /csrf/i.test(detail);
    }

    // What a failed request means for the queue: false stops this round (network, session, server
    // trouble: the item stays and is retried); a refusal marks the visit for the worker.
    function failed(clientId, r) {
      if (r.network || r.status >= 500 || r.status === 429 || r.status === 0) {
        return false;
      }
      if (isSessionProblem(r)) {
        sessionEnded = true;
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
        var out = await api("POST", "/api/v1/visits/" + v.id + "/check-out", v.check_out);
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

    async function flushNow() {
      var ids = load().visits.filter(function (v) { return !v.problem && hasWork(v); })
                             .map(function (v) { return v.client_id; });
      for (var i = 0; i < ids.length; i += 1) {
        if (!(await sendVisit(ids[i])) || !navigator.onLine) {
          return;
        }
        render();
      }
    }

    // One flush at a time, across tabs too where the browser has Web Locks.
    function flush() {
      var owing = load().visits.some(function (v) { return !v.problem && hasWork(v); });
      if (flushing || sessionEnded || !navigator.onLine || !owing) {
        render();
        return Promise.resolve();
      }
      flushing = true;
      render();
      var run = navigator.locks
        ? navigator.locks.request(KEY, {ifAvailable: true}, function (lock) { return lock ? flushNow() : null; })
        : flushNow();
      return Promise.resolve(run).catch(function () { /* kept in the queue; retried later */ })
        .then(function () { flushing = false; render(); });
    }

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

    return {load: load, save: save, find: find, update: update, deviceId: deviceId, hasWork: hasWork,
            inQueue: inQueue, prune: prune, api: api, problemText: problemText, isSessionProblem: isSessionProblem,
            flush: flush, poll: poll,
            isFlushing: function () { return flushing; },
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

  return {create: create, uuid: uuid, localDay: localDay, photoDataUrl: photoDataUrl, dataUrlToBlob: dataUrlToBlob,
          locate: locate, bindSignOut: bindSignOut};
})();
