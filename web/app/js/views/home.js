// Owns the home view: the banner of notices to acknowledge, the requests waiting for an answer,
// alerts, the recent activity, this user's devices and the recovery-code card, plus the short
// message shown at its top across re-renders.
import { Unreachable, api } from '../api.js';
import { setUpPush } from '../push.js';
import { isPending, state } from '../state.js';
import { KIND_LABELS, el, main, notice, show, status, viewChanged, when } from '../ui.js';
import { activitySection } from './activity.js';
import { NOTICES_HASH, broadcastBanner } from './broadcasts.js';
import { deviceItem } from './devices.js';
import { renderPending } from './pending.js';
import { openApproval } from './prompt.js';
import { recoverySection } from './recovery.js';

const home = {
  // Numbers the home renders: only the latest one shows.
  renders: 0,
  // A short message shown at the top of the home view for a while, across the re-renders that
  // live updates cause.
  flashed: null,
};

export function flash(kind, text) {
  home.flashed = { kind, text, until: Date.now() + 20000 };
}

function flashNotice() {
  if (!home.flashed || Date.now() > home.flashed.until) { home.flashed = null; return null; }
  const n = notice(home.flashed.kind, home.flashed.text);
  n.id = 'flash';
  return n;
}

export async function renderHome() {
  if (isPending()) { renderPending(); return; }
  // Only the latest home render shows, and none once another view took the screen meanwhile.
  const otherView = viewChanged();
  const ticket = ++home.renders;
  const stale = () => ticket !== home.renders || otherView();
  let pending, alerts, devices, me, recovery, activity, broadcasts;
  try {
    [pending, alerts, devices, me, recovery, activity, broadcasts] = await Promise.all([
      api('GET', '/v1/device/approvals'), api('GET', '/v1/device/alerts'),
      api('GET', '/v1/device/devices'), api('GET', '/v1/device/me'),
      // The count is a convenience: the home view still loads without it.
      api('GET', '/v1/device/recovery-codes').catch((e) => { if (e instanceof Unreachable) throw e; return null; }),
      // So is the activity.
      api('GET', '/v1/device/activity').catch((e) => { if (e instanceof Unreachable) throw e; return null; }),
      // The notices have their own view, which says what went wrong there.
      api('GET', '/v1/device/broadcasts').catch((e) => { if (e instanceof Unreachable) throw e; return null; }),
    ]);
  } catch (e) {
    if (e.code === 'device_revoked' || stale()) return;
    show(el('h1', { text: 'Assent' }), notice('bad', e.message), el('button', { onclick: renderHome, text: 'Try again' }));
    return;
  }
  if (stale()) return;
  state.codesShown = false;
  const requests = pending.approvals.length
    ? el('ul', { class: 'plain', id: 'pending' }, pending.approvals.map((a) => el('li', {},
      el('button', { class: 'primary', 'data-approval': a.id, onclick: () => openApproval(a.id) },
        `${KIND_LABELS[a.kind] || a.kind} · ${a.application.name}`),
      el('div', { class: 'time', text: a.binding_message || '' }))))
    : el('p', { id: 'pending-empty', text: 'Nothing waiting for you.' });
  show(
    el('h1', { text: 'Requests' }),
    broadcastBanner(broadcasts),
    flashNotice(),
    me.has_passkey ? null : notice('warn', 'No passkey on this device: it cannot approve requests that need a fingerprint, face or PIN check.'),
    notificationOffer(),
    el('section', { class: 'card', 'aria-labelledby': 'h-pending' }, el('h2', { id: 'h-pending', text: 'Waiting for your answer' }), requests),
    el('section', { class: 'card', 'aria-labelledby': 'h-alerts' }, el('h2', { id: 'h-alerts', text: 'Alerts' }),
      alerts.alerts.length
        ? el('ul', { class: 'plain', id: 'alerts' }, alerts.alerts.map((a) => alertItem(a, devices.devices)))
        : el('p', { text: 'No alerts.' })),
    activitySection(activity),
    el('section', { class: 'card', 'aria-labelledby': 'h-devices' }, el('h2', { id: 'h-devices', text: 'Your devices' }),
      el('ul', { class: 'plain', id: 'devices' }, devices.devices.map((d) => deviceItem(d)))),
    recoverySection(recovery),
  );
}

// A new-device alert offers "This wasn't me", which revokes that device at once; a device waiting
// for activation is approved or denied in the device list, where the alert leads.
function alertItem(a, devices) {
  const li = el('li', { 'data-alert': a.kind }, el('div', { class: 'alert-message', text: a.message }), el('time', { class: 'time', datetime: a.created_at, text: when(a.created_at) }));
  const other = a.device_id && a.device_id !== state.device.device_id ? devices.find((d) => d.id === a.device_id) : null;
  const target = a.kind === 'device_enrolled' && other && other.state === 'active' ? other : null;
  if (target) {
    li.append(el('div', { class: 'actions' }, el('button', { class: 'danger', 'data-wasnt-me': a.device_id, onclick: async () => {
      try {
        await api('POST', `/v1/device/devices/${a.device_id}/revoke`);
        status(`${target.name} revoked.`);
      } catch (e) { status(e.message); }
      await renderHome();
    }, text: 'This wasn’t me: revoke it' })));
  }
  if (a.kind === 'broadcast' || a.kind === 'broadcast_reminder') {
    li.append(el('div', { class: 'actions' }, el('a', { class: 'button', href: NOTICES_HASH, text: 'Open the notices' })));
  }
  if (a.kind === 'device_activation_requested' && other && other.state === 'pending_activation') {
    li.append(el('div', { class: 'actions' }, el('button', { class: 'primary', 'data-review': a.device_id, onclick: () => reviewDevice(a.device_id), text: 'Review the new device' })));
  }
  return li;
}

function reviewDevice(id) {
  const item = main().querySelector(`li[data-device="${CSS.escape(id)}"]`);
  if (!item) return;
  item.scrollIntoView({ block: 'center' });
  const input = item.querySelector('input');
  (input || item).focus();
}

// Notifications need the user's permission, asked from a click (browsers ignore unprompted asks).
function notificationOffer() {
  if (!('Notification' in window) || Notification.permission !== 'default') return null;
  return el('div', { class: 'notice warn' },
    el('p', { text: 'Turn on notifications to hear about requests when this page is closed.' }),
    el('button', { onclick: async () => {
      if ((await Notification.requestPermission()) === 'granted') await setUpPush();
      await renderHome();
    }, text: 'Turn on notifications' }));
}
