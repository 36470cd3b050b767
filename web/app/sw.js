// Assent service worker: turns a Web Push into a notification. Pushes carry only a request id
// (never its details); the page fetches the request itself over its authenticated channel.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

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
