// Assent service worker: turns a Web Push into a notification. Pushes carry only a request id
// (never its details); the page fetches the request itself over its authenticated channel.
'use strict';

const SHELL_CACHE = 'assent-shell-v1';
const SHELL = [
  '/app/', '/app/app.css', '/app/manifest.webmanifest', '/app/icon.svg',
  // The authenticator's modules: the entry and every module it imports (all of them, or the
  // page cannot start offline; tests/web/assets.test.mjs checks the list).
  '/app/app.js', '/app/js/api.js', '/app/js/crypto.js', '/app/js/keystore.js', '/app/js/live.js',
  '/app/js/passkey.js', '/app/js/push.js', '/app/js/router.js', '/app/js/state.js', '/app/js/ui.js',
  '/app/js/views/activity.js', '/app/js/views/broadcasts.js', '/app/js/views/devices.js',
  '/app/js/views/enroll.js', '/app/js/views/home.js', '/app/js/views/pending.js',
  '/app/js/views/prompt.js', '/app/js/views/recovery.js', '/app/js/views/revoked.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).catch(() => undefined).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The app shell loads even when the server cannot be reached (the page then says so). Network
// first, so a new version is used as soon as it is served; API calls are never cached.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app')) return;
  const key = url.pathname === '/app' || url.pathname === '/app/enroll' ? '/app/' : url.pathname;
  if (!SHELL.includes(key)) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      if (response.ok) (await caches.open(SHELL_CACHE)).put(key, response.clone());
      return response;
    } catch (e) {
      const cached = await caches.match(key);
      if (cached) return cached;
      throw e;
    }
  })());
});

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (_) { data = {}; }
  const id = typeof data.id === 'string' ? data.id : null;
  const alert = data.type === 'alert';
  const title = alert ? 'Assent: security notice' : 'Assent: approval requested';
  const body = alert ? 'Open Assent to read it.' : 'Open Assent to review the request and answer it.';
  event.waitUntil(self.registration.showNotification(title, {
    body, tag: id || 'assent', data: { id, type: alert ? 'alert' : 'approval' },
    icon: '/app/icon.svg', requireInteraction: !alert,
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const id = data.type === 'approval' && typeof data.id === 'string' ? data.id : null;
  const url = id ? `/app/#/approval/${encodeURIComponent(id)}` : '/app/';
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).pathname.startsWith('/app')) {
        client.postMessage({ type: 'open', id });
        try { await client.focus(); } catch (_) { /* focus needs a user gesture on some platforms */ }
        return;
      }
    }
    await self.clients.openWindow(url);
  })());
});
