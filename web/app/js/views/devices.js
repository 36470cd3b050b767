// Owns the home view's device list: each device's state, last sighting and channel, renaming,
// revoking, and approving or denying a device that waits for activation.
import { api } from '../api.js';
import { state } from '../state.js';
import { el, notice, status, when } from '../ui.js';
import { flash, renderHome } from './home.js';

const CHANNEL_LABELS = {
  web_push: 'Web Push notifications', apns: 'Apple push notifications', fcm: 'Android push notifications',
  stream: 'live updates while open',
};

// What reaches the device: its push channel, or, when its push service refused it, the fact that
// notifications stopped (it hears of requests only while open, until it turns them on again).
function channelLabel(d) {
  const label = CHANNEL_LABELS[d.push_channel] || d.push_channel || 'unknown channel';
  if (d.push_channel && d.push_channel !== 'stream' && d.push_working === false) {
    return `${label} stopped working: live updates while open`;
  }
  return label;
}

function ago(iso) {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, 'second');
}

export function deviceItem(d) {
  const mine = d.id === state.device.device_id;
  const revoked = d.state === 'revoked';
  const waiting = d.state === 'pending_activation';
  const seen = d.last_seen_at
    ? el('span', { 'data-field': 'last-seen', title: when(d.last_seen_at) }, `last seen ${ago(d.last_seen_at)}`)
    : el('span', { 'data-field': 'last-seen' }, 'not seen yet');
  const li = el('li', { 'data-device': d.id, 'data-state': d.state, tabindex: '-1' },
    el('div', {}, el('strong', { text: d.name }), mine ? el('span', { class: 'tag', text: 'this device' }) : null,
      revoked ? el('span', { class: 'tag', text: 'revoked' }) : null,
      waiting ? el('span', { class: 'tag waiting', text: 'Waiting for approval' }) : null),
    el('div', { class: 'time' }, `${d.platform} · enrolled ${when(d.created_at)}`),
    revoked ? null : el('div', { class: 'time' }, seen, ' · ',
      el('span', { 'data-field': 'channel' }, channelLabel(d))));
  if (revoked) return li;
  if (waiting && !mine) {
    li.append(activationForm(d));
    return li;
  }
  const actions = el('div', { class: 'actions' },
    el('button', { onclick: () => renameForm(li, d), text: 'Rename' }),
    mine ? null : el('button', { class: 'danger', onclick: async () => {
      if (!confirm(`Revoke “${d.name}”? It will not be able to answer anything again.`)) return;
      try { await api('POST', `/v1/device/devices/${d.id}/revoke`); status(`${d.name} revoked.`); } catch (e) { status(e.message); }
      await renderHome();
    }, text: 'Revoke (lost device)' }));
  li.append(actions);
  return li;
}

const ACTIVATION_PROBLEMS = {
  wrong_code: 'The code did not match; that device was removed. If it is yours, enroll it again with a new link.',
  already_decided: 'That device was already approved or removed, perhaps from another of your devices.',
  expired: 'That device waited too long and was removed. If it is yours, enroll it again with a new link.',
  not_found: 'That device no longer exists.',
};

// Approving needs the code shown on the new device: whoever holds it is in front of both.
function activationForm(d) {
  const id = `activation-${d.id}`;
  const input = el('input', { type: 'text', id, class: 'activation-input', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]*', maxlength: '10', 'aria-describedby': `${id}-help` });
  const message = el('div', { class: 'activation-message' });
  const decide = async (decision) => {
    const code = input.value.trim();
    if (decision === 'approve' && !code) {
      message.replaceChildren(notice('bad', 'Type the code shown on the new device first.'));
      input.focus();
      return;
    }
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await api('POST', `/v1/device/devices/${encodeURIComponent(d.id)}/activation`, decision === 'approve' ? { decision, code } : { decision });
      flash(decision === 'approve' ? 'ok' : 'warn', decision === 'approve' ? `“${d.name}” is approved and can now answer your requests.` : `“${d.name}” was denied and removed.`);
    } catch (e) {
      if (e.code === 'device_revoked') return;
      if (e.code === 'code_required') {
        message.replaceChildren(notice('bad', 'Type the code shown on the new device first.'));
        form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
        return;
      }
      if (!ACTIVATION_PROBLEMS[e.code]) {
        message.replaceChildren(notice('bad', e.message));
        form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
        return;
      }
      flash('bad', ACTIVATION_PROBLEMS[e.code]);
    }
    await renderHome();
  };
  const form = el('form', { class: 'activation', 'data-activation': d.id, onsubmit: (e) => { e.preventDefault(); decide('approve'); } },
    el('label', { for: id, text: 'Code shown on the new device' }), input,
    el('p', { id: `${id}-help`, class: 'time', text: 'Approve only if you are adding this device yourself and the code matches its screen. If you did not ask for it, deny it.' }),
    message,
    el('div', { class: 'actions' },
      el('button', { class: 'primary', type: 'submit', 'data-approve-device': d.id, text: 'Approve' }),
      el('button', { type: 'button', 'data-deny-device': d.id, onclick: () => decide('deny'), text: 'Deny' })));
  return form;
}

function renameForm(li, d) {
  const input = el('input', { type: 'text', class: 'name', id: `name-${d.id}`, value: d.name, maxlength: '64' });
  li.replaceChildren(el('form', { onsubmit: async (e) => {
    e.preventDefault();
    try { await api('POST', `/v1/device/devices/${d.id}/rename`, { name: input.value }); } catch (err) { status(err.message); }
    await renderHome();
  } }, el('label', { for: `name-${d.id}`, text: 'Device name' }), input,
  el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit', text: 'Save' }), el('button', { type: 'button', onclick: renderHome, text: 'Cancel' }))));
  input.focus();
}
