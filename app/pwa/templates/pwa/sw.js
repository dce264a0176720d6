/* CareCircle's service worker. It makes the app installable and shows a page of its own when
   the phone has no connection.

   It keeps ONLY the app shell: the stylesheet, the icons and the offline page, fetched without
   cookies when it installs. It never stores a page, an answer to a signed-in request or anything
   else it sees: pages, and everything not in PRECACHE, go to the network as if it were not here.
   A new release has a new VERSION, so a new cache, and the old caches are deleted. */
"use strict";

const VERSION = {{ version|tojson }};
const CACHE = "carecircle-shell-" + VERSION;
const PRECACHE = {{ precache|tojson }};
/* The offline page in each language, and where the one in the reader's language is kept. */
const OFFLINE = {{ offline|tojson }};
const CHOSEN = {{ chosen|tojson }};
const DEFAULT_LANGUAGE = {{ default_language|tojson }};
const SHELL = new Set(PRECACHE.map((url) => new URL(url, self.location.href).href));

function known(language) {
  return typeof language === "string" && Object.prototype.hasOwnProperty.call(OFFLINE, language);
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Without cookies: nothing kept here is ever an answer to a signed-in request.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { credentials: "omit", cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

/* Each page says its language (sw-register.js): the offline page is then shown in it. */
self.addEventListener("message", (event) => {
  const language = event.data && event.data.language;
  if (!known(language)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const [page, kept] = await Promise.all([cache.match(OFFLINE[language]), cache.match(CHOSEN)]);
    if (page && (!kept || kept.url !== page.url)) await cache.put(CHOSEN, page);
  })());
});

function browserLanguage() {
  for (const tag of self.navigator.languages || []) {
    const language = tag.toLowerCase().split("-")[0];
    if (known(language)) return language;
  }
  return DEFAULT_LANGUAGE;
}

async function offlinePage() {
  const cache = await caches.open(CACHE);
  return (await cache.match(CHOSEN)) || (await cache.match(OFFLINE[browserLanguage()])) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    // A page: from the network, never stored. Only when the network fails, the offline page.
    event.respondWith(fetch(request).catch(offlinePage));
    return;
  }
  if (SHELL.has(request.url)) {
    event.respondWith(
      caches.match(request, { cacheName: CACHE, ignoreVary: true }).then((hit) => hit || fetch(request))
    );
  }
  // Anything else is not answered here: the browser fetches it as usual.
});
