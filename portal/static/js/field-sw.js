// Service worker of the field-worker app, served at /field/sw.js so that it controls /field/.
// It keeps the page and its static files so the app opens without a network; the visits
// themselves wait in the page's own queue (field.js), never here. Network first, so a page or
// script that changed on the server is used as soon as the phone is online.
"use strict";

var CACHE = "field-app-v14";
var SCOPE = new URL("./", self.location).pathname;          // "/field/"
var SHELL = [SCOPE, SCOPE + "assessments/", SCOPE + "surveys/", SCOPE + "stations/"].concat([
  "css/portal.css", "css/field.css", "js/field-queue.js", "js/field.js", "js/field-assessment.js",
  "js/field-survey-form.js", "js/field-survey.js", "js/field-station.js"].map(function (file) {
  return new URL("../static/" + file, self.location).pathname;  // the app's static files, beside /field/
}));

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      // One file that cannot be fetched (a signed-out phone) must not stop the others.
      return fetch(url, {credentials: "same-origin", redirect: "follow"}).then(function (response) {
        return keep(cache, url, response);
      }).catch(function () { return null; });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("field-app-") === 0 && name !== CACHE; })
                            .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// Only a real answer of the page itself is kept: not the sign-in page it redirects to.
function keep(cache, url, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    return cache.put(url, response.clone()).then(function () { return response; });
  }
  return response;
}

function cachedKey(url) {
  if (url.origin !== self.location.origin) {
    return null;
  }
  return SHELL.indexOf(url.pathname) >= 0 ? url.pathname : null;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var key = request.method === "GET" ? cachedKey(new URL(request.url)) : null;
  if (key === null) {
    return;  // the API and everything else go straight to the network
  }
  event.respondWith(caches.open(CACHE).then(function (cache) {
    return fetch(request).then(function (response) {
      return keep(cache, key, response);
    }).catch(function () {
      return cache.match(key).then(function (hit) {
        return hit || Response.error();
      });
    });
  }));
});
