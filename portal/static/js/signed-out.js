// Loaded by the sign-in page right after signing out (accounts/views.py logout): deletes the
// field app's copies of signed-in pages kept in Cache Storage by its service worker
// (field-sw.js), which the logout's Clear-Site-Data: "cache" does not reach. The field app's
// queue of unsent visits is kept elsewhere (field-queue.js) and is left alone.
"use strict";
if (window.caches) {
  window.caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("field-app-") === 0; })
                            .map(function (name) { return window.caches.delete(name); }));
  }).catch(function () { return null; });
}
