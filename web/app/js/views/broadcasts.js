// Owns the incident broadcasts: the home banner that says a notice waits, and the notices view
// (`#/notices`) listing the notices to acknowledge, each shown in full, with the acknowledgement
// signed by the device key (protocol.md, "Incident broadcasts"), and the recently acknowledged.
import { api } from '../api.js';
import { messageHash, now, signBroadcastAck } from '../crypto.js';
import { state } from '../state.js';
import { el, main, notice, show, viewChanged, when } from '../ui.js';

export const NOTICES_HASH = '#/notices';

const notices = {
  // Numbers the renders of the notices view: only the latest one shows.
  renders: 0,
  // The outcome of the last acknowledgement, shown at the top of the next render.
  result: null,
  // An acknowledgement is being signed or sent: live updates wait for it.
  busy: false,
};

export function noticesShown() {
  return location.hash === NOTICES_HASH;
}

// The home view's banner: the notices waiting for an acknowledgement, or nothing.
export function broadcastBanner(list) {
  if (!list || !list.pending.length) return null;
  const n = list.pending.length;
  return el('div', { class: 'notice bad banner', id: 'broadcast-banner', role: 'status' },
    el('p', {}, el('strong', { text: 'Your administrators sent a notice you must acknowledge' })),
    el('p', { text: n === 1 ? 'Read it, then acknowledge it on this device.' : `${n} notices wait for you. Read each, then acknowledge it on this device.` }),
    el('a', { class: 'button', id: 'open-notices', href: NOTICES_HASH, text: n === 1 ? 'Read the notice' : 'Read the notices' }));
}

// A live `broadcast` event: the view is redrawn when it names a notice not listed yet (the
// stream announces every waiting notice when it connects, and those are already shown).
export function refreshNotices(id) {
  if (!noticesShown() || notices.busy) return;
  if (id && main().querySelector(`li[data-broadcast="${CSS.escape(id)}"]`)) return;
  renderNotices();
}

export async function renderNotices() {
  const otherView = viewChanged();
  const ticket = ++notices.renders;
  const stale = () => ticket !== notices.renders || otherView() || !noticesShown();
  let list, requests;
  try {
    [list, requests] = await Promise.all([
      api('GET', '/v1/device/broadcasts'),
      // Only to say that requests wait: the view still loads without it.
      api('GET', '/v1/device/approvals').catch(() => null),
    ]);
  } catch (e) {
    if (e.code === 'device_revoked' || stale()) return;
    show(el('h1', { text: 'Notices' }), notice('bad', e.message),
      el('div', { class: 'actions' }, el('button', { onclick: renderNotices, text: 'Try again' }), backHome()));
    return;
  }
  if (stale()) return;
  const result = notices.result;
  notices.result = null;
  let outcome = null;
  if (result) {
    outcome = notice(result.kind, result.text);
    outcome.id = 'ack-result';
  }
  show(
    el('h1', { text: 'Notices from your administrators' }),
    outcome,
    waitingRequests(requests),
    el('section', { class: 'card', 'aria-labelledby': 'h-to-ack' }, el('h2', { id: 'h-to-ack', text: 'To acknowledge' }),
      list.pending.length
        ? [el('p', { class: 'time', text: 'Read each notice. Acknowledging signs, with this device’s key, that you read this exact text; your administrators see which device did.' }),
          el('ul', { class: 'plain', id: 'broadcasts-pending' }, list.pending.map(pendingItem))]
        : el('p', { id: 'broadcasts-empty', text: 'No notice waits for your acknowledgement.' })),
    list.acknowledged.length
      ? el('section', { class: 'card', 'aria-labelledby': 'h-acked' }, el('h2', { id: 'h-acked', text: 'Acknowledged' }),
        el('ul', { class: 'plain', id: 'broadcasts-acknowledged' }, list.acknowledged.map((b) => acknowledgedItem(b, result && result.id))))
      : null,
    el('div', { class: 'actions' }, backHome()),
  );
}

function waitingRequests(requests) {
  const n = requests ? requests.approvals.length : 0;
  if (!n) return null;
  return el('div', { class: 'notice warn', id: 'notices-requests' },
    el('p', { text: n === 1 ? 'A request waits for your answer.' : `${n} requests wait for your answer.` }),
    el('a', { class: 'button', href: '#', text: 'Go to the requests' }));
}

function pendingItem(b) {
  const out = el('div', { class: 'ack-message' });
  const button = el('button', { class: 'primary', type: 'button', 'data-ack': b.id, text: 'Acknowledge' });
  const li = el('li', { 'data-broadcast': b.id },
    el('p', { class: 'broadcast-message', text: b.message }),
    el('div', { class: 'time' }, 'Sent ', el('time', { datetime: b.created_at, text: when(b.created_at) })),
    out,
    el('div', { class: 'actions' }, button));
  button.addEventListener('click', () => acknowledge(b, button, out));
  return li;
}

function acknowledgedItem(b, justNow) {
  return el('li', { 'data-broadcast': b.id, 'data-acknowledged': 'true', class: b.id === justNow ? 'just-acked' : null },
    el('p', { class: 'broadcast-message', text: b.message }),
    el('div', { class: 'time' }, el('strong', { text: 'Acknowledged' }), ' ',
      el('time', { datetime: b.acknowledged_at, text: when(b.acknowledged_at) }),
      ' · sent ', el('time', { datetime: b.created_at, text: when(b.created_at) })));
}

// What the server's refusals mean to the user; the others say what they say.
const REFUSALS = {
  already_decided: ['warn', 'This notice was already acknowledged (perhaps on another of your devices): nothing more to do.'],
  not_found: ['bad', 'This notice is not addressed to you, or no longer exists.'],
  details_mismatch: ['bad', 'The server holds a different text for this notice than the one shown here, so it was not acknowledged. Tell your administrators.'],
  stale_statement: ['bad', 'This device’s clock is too far from the server’s: set it right, then acknowledge again.'],
};

async function acknowledge(b, button, out) {
  if (notices.busy) return;
  notices.busy = true;
  button.disabled = true;
  out.replaceChildren();
  let retry = true;
  try {
    // The device signs what the user read: the hash of the text shown, which must be the one
    // the server says it sent.
    const computed = await messageHash(b.message);
    if (computed !== b.message_hash) {
      retry = false;
      throw new Error('This notice does not match its fingerprint, so it cannot be acknowledged. Tell your administrators.');
    }
    const statement = await signBroadcastAck(state.device.privateKey, state.device.device_id, {
      broadcast_id: b.id, user: b.user, message_hash: computed, iat: now(),
    });
    const done = await api('POST', `/v1/device/broadcasts/${encodeURIComponent(b.id)}/ack`, { statement });
    notices.result = { id: b.id, kind: 'ok', text: `Acknowledged at ${when(done.acknowledged_at)}. Your administrators can see that you read this notice.` };
  } catch (e) {
    const refusal = REFUSALS[e.code];
    if (e.code === 'already_decided' || e.code === 'not_found') {
      // It is no longer one to acknowledge: the list, read again, shows where it is.
      notices.result = { id: b.id, kind: refusal[0], text: refusal[1] };
    } else {
      if (e.code === 'device_revoked') return;
      out.replaceChildren(notice('bad', refusal ? refusal[1] : `Not acknowledged: ${e.message}`));
      button.disabled = !retry || e.code === 'details_mismatch';
      return;
    }
  } finally {
    notices.busy = false;
  }
  await renderNotices();
}

function backHome() {
  return el('button', { type: 'button', onclick: () => { location.hash = ''; }, text: 'Back to requests' });
}
