// Owns this device's Web Push subscription, through the service worker (sw.js).
import { api } from './api.js';
import { b64uDecode } from './crypto.js';

// Subscribing may ask for permission, which browsers expect from a click: here only when granted.
export async function setUpPushIfAllowed() {
  if ('Notification' in window && Notification.permission === 'granted') await setUpPush();
}

export async function setUpPush() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return;
  try {
    const reg = await navigator.serviceWorker.ready;
    const { public_key } = await api('GET', '/v1/push/vapid-public-key', undefined, { auth: false });
    const sub = (await reg.pushManager.getSubscription()) || await reg.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: b64uDecode(public_key),
    });
    await api('POST', '/v1/device/push-subscription', sub.toJSON());
  } catch (e) {
    // No push service reachable (offline networks, some browsers): live updates still work
    // while the page is open.
    console.info('Web Push unavailable', e);
  }
}
