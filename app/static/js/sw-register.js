/* CareCircle: register the service worker (the offline page, installing the app). Every page
   works the same without it: with no support, a failure or JavaScript off, nothing changes. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  var url = script.getAttribute("data-sw");
  var language = document.documentElement.lang;
  if (!url) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // Show the offline page in this page's language.
      if (registration.active && language) {
        registration.active.postMessage({ language: language });
      }
    }).catch(function () {});
  });
})();
