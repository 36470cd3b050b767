// Assent web authenticator. The device key is a non-extractable WebCrypto P-256 key kept in
// IndexedDB; every request to the server carries a fresh proof signed with it, and every answer
// is a statement signed with it, exactly as docs/protocol.md describes and the CLI does.
'use strict';

// ---------------------------------------------------------------- encoding and crypto helpers

const enc = new TextEncoder();

function b64u(bytes) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64uDecode(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', typeof bytes === 'string' ? enc.encode(bytes) : bytes));
}

// RFC 8785: keys sorted by UTF-16 code units (JavaScript's default string order), numbers and
// strings as JSON.stringify writes them.
function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
}

async function detailsHash(approval) {
  const details = {
    authorization_details: approval.authorization_details || [],
    binding_message: approval.binding_message ?? null,
    kind: approval.kind,
  };
  return b64u(await sha256(canonical(details)));
}

async function thumbprint(jwk) {
  return b64u(await sha256(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`));
}

function publicJwk(jwk) {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

async function signJws(privateKey, header, payload) {
  const input = b64u(enc.encode(JSON.stringify({ alg: 'ES256', ...header }))) + '.' + b64u(enc.encode(JSON.stringify(payload)));
  // WebCrypto's ECDSA signature is r || s (IEEE P1363), which is exactly JWS ES256.
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, enc.encode(input));
  return input + '.' + b64u(sig);
}

async function verifyJws(jws, jwk) {
  const [h, p, s] = jws.split('.');
  const key = await crypto.subtle.importKey('jwk', publicJwk(jwk), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b64uDecode(s), enc.encode(h + '.' + p));
  if (!ok) throw new Error('bad signature');
  return JSON.parse(new TextDecoder().decode(b64uDecode(p)));
}

const now = () => Math.floor(Date.now() / 1000);
const randomId = () => b64u(crypto.getRandomValues(new Uint8Array(16)));

// ---------------------------------------------------------------- storage (IndexedDB)

const DB_NAME = 'assent';
const STORE = 'device';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function dbOp(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req && req.result);
    tx.onerror = () => reject(tx.error);
  });
}

const loadDevice = () => dbOp('readonly', (s) => s.get('self'));
const saveDevice = (device) => dbOp('readwrite', (s) => s.put(device, 'self'));
const forgetDevice = () => dbOp('readwrite', (s) => s.delete('self'));

// ---------------------------------------------------------------- the server API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'unknown';
  }
}

class Unreachable extends Error {}

let device = null;

async function proof(method, path) {
  return signJws(device.privateKey, { typ: 'dpop+jwt', jwk: device.jwk }, {
    jti: randomId(), htm: method, htu: location.origin + path, iat: now(),
  });
}

async function api(method, path, body, { auth = true, signal } = {}) {
  const headers = {};
  if (auth) headers.DPoP = await proof(method, path);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new Unreachable('The Assent server cannot be reached. Check your connection; nothing was answered.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (err.code === 'device_revoked') showRevoked();
    throw err;
  }
  return data;
}

// ---------------------------------------------------------------- rendering helpers

const main = () => document.getElementById('main');

// Builds DOM nodes; text is always set as text, never parsed as HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Counts the views shown, so a view whose data arrives after another was shown gives way.
let views = 0;

function show(...nodes) {
  views += 1;
  const m = main();
  m.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
  const heading = m.querySelector('h1');
  (heading || m).setAttribute('tabindex', '-1');
  (heading || m).focus();
}

function status(text) {
  document.getElementById('status').textContent = text || '';
}

function notice(kind, text) {
  return el('div', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, text);
}

const when = (iso) => new Date(iso).toLocaleString();

const KIND_LABELS = { login: 'Sign-in', transaction: 'Transaction', access: 'Access request', agent_action: 'Agent action' };

// ---------------------------------------------------------------- enrollment

function parseEnrollLink(link) {
  const url = new URL(link.trim(), location.href);
  const params = new URLSearchParams(url.hash.slice(1));
  const code = params.get('code');
  const fp = params.get('fp');
  if (!url.pathname.endsWith('/app/enroll') || !code || !fp) throw new Error('This is not an Assent enrollment link.');
  return { origin: url.origin, code, fp };
}

function defaultName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

async function enroll(link) {
  const { origin, code, fp } = parseEnrollLink(link);
  if (origin !== location.origin) throw new Error(`This link is for another server (${origin}). Open it there.`);
  status('Checking the server key…');
  const jwks = await api('GET', '/.well-known/jwks.json', undefined, { auth: false });
  let serverJwk = null;
  for (const k of jwks.keys) if ((await thumbprint(k)) === fp) serverJwk = publicJwk(k);
  if (!serverJwk) throw new Error("The server's key does not match the link's fingerprint: this is not the server that issued the link.");

  status('Creating this device’s key…');
  // Non-extractable: the private key can sign, but no script can ever read it out.
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const jwk = publicJwk(await crypto.subtle.exportKey('jwk', pair.publicKey));
  const name = defaultName();
  const enrollProof = await signJws(pair.privateKey, { typ: 'assent-enroll+jws', jwk }, { code, name, platform: 'web', iat: now() });
  const enrolled = await api('POST', '/v1/device/enroll', { proof: enrollProof }, { auth: false });
  const registration = await verifyJws(enrolled.registration, serverJwk).catch(() => null);
  if (!registration || registration.jkt !== (await thumbprint(jwk)) || registration.device_id !== enrolled.device_id) {
    throw new Error('The server’s confirmation is not signed by the expected key; enrollment not trusted.');
  }
  // A device held for trusted registration keeps its activation code, to show it again after a
  // reload until one of the user's active devices approves it.
  const pending = enrolled.state === 'pending_activation';
  device = {
    device_id: enrolled.device_id, user: enrolled.user, name, privateKey: pair.privateKey, jwk, server_jwk: serverJwk, passkey_id: null,
    state: pending ? 'pending_activation' : 'active', activation_code: pending ? enrolled.activation_code : null,
  };
  await saveDevice(device);
  history.replaceState(null, '', '/app/');
  await setUpPasskey();
  // Subscribing may ask for permission, which browsers expect from a click: only when granted.
  if (!pending) await setUpPushIfAllowed();
  status('');
}

const isPending = () => Boolean(device && device.state === 'pending_activation');

// The passkey is this device's user-verification factor: a fingerprint, face or PIN check that
// requests needing user verification require on top of the device key. It is created while
// enrolling; a device waiting for activation registers it with the server once approved.
async function setUpPasskey() {
  if (!window.PublicKeyCredential || !navigator.credentials) return;
  try {
    const cred = await navigator.credentials.create({ publicKey: {
      rp: { id: location.hostname, name: 'Assent' },
      user: { id: enc.encode(device.device_id), name: device.user, displayName: device.user },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { userVerification: 'required', residentKey: 'discouraged' },
      attestation: 'none',
      timeout: 60000,
    } });
    const spki = cred.response.getPublicKey && cred.response.getPublicKey();
    if (!spki || cred.response.getPublicKeyAlgorithm() !== -7) throw new Error('not an ES256 passkey');
    device.passkey_unregistered = { credential_id: b64u(cred.rawId), public_key: b64u(spki) };
    await saveDevice(device);
  } catch (e) {
    console.warn('passkey not set up', e);
    return;
  }
  if (!isPending()) await registerPasskey();
}

async function registerPasskey() {
  const passkey = device.passkey_unregistered;
  if (!passkey) return;
  try {
    await api('POST', '/v1/device/passkey', passkey);
    device.passkey_id = passkey.credential_id;
    delete device.passkey_unregistered;
    await saveDevice(device);
  } catch (e) {
    console.warn('passkey not registered', e);
  }
}

async function setUpPushIfAllowed() {
  if ('Notification' in window && Notification.permission === 'granted') await setUpPush();
}

async function setUpPush() {
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

function renderEnroll(error) {
  const input = el('input', { type: 'text', class: 'name', id: 'link', autocomplete: 'off', spellcheck: 'false' });
  show(
    el('h1', { text: 'Enroll this browser' }),
    error ? notice('bad', error) : null,
    el('p', { text: 'Open the enrollment link you were given, or paste it here. This browser creates its own key; it never leaves the device.' }),
    el('form', { onsubmit: async (e) => {
      e.preventDefault();
      await runEnroll(input.value);
    } },
    el('label', { for: 'link', text: 'Enrollment link' }), input,
    el('div', { class: 'actions' }, el('button', { class: 'primary', type: 'submit', text: 'Enroll' }))),
  );
}

async function runEnroll(link) {
  try {
    show(el('h1', { text: 'Enrolling…' }), el('p', { text: 'Checking the link and creating this device’s key.' }));
    await enroll(link);
  } catch (e) {
    status('');
    const messages = {
      enrollment_code_used: 'This enrollment link was already used. Ask for a new one.',
      enrollment_code_expired: 'This enrollment link has expired. Ask for a new one.',
      enrollment_code_invalid: 'This enrollment link is not valid. Check that you copied all of it.',
    };
    renderEnroll(messages[e.code] || e.message);
    return;
  }
  await enter();
}

// ---------------------------------------------------------------- waiting for activation

// A device enrolled for a user who already has one is held until one of the user's active
// devices approves it with the code shown here. Until then its only permitted call is
// GET /v1/device/me, which this screen polls.
const ACTIVATION_POLL_MS = 2000;
let activationTimer = null;
let activationChecking = false;

function renderPending() {
  show(
    el('h1', { text: 'Approve this device from one of your other devices' }),
    el('p', { text: `On a device already enrolled for ${device.user}, open Assent: under “Your devices”, “${device.name}” waits for approval. Type this code there:` }),
    el('p', { class: 'activation-code', id: 'activation-code', text: device.activation_code || '' }),
    el('p', { class: 'time', text: 'This page moves on by itself once the device is approved. Until then it can see and answer nothing.' }),
    el('p', { class: 'time', text: 'If you have no other device at hand, ask your administrator or use a recovery code where you sign in.' }),
  );
  checkActivation();
}

function scheduleActivationCheck() {
  clearTimeout(activationTimer);
  activationTimer = setTimeout(checkActivation, ACTIVATION_POLL_MS);
}

async function checkActivation() {
  clearTimeout(activationTimer);
  if (!isPending() || activationChecking) return;
  // A hidden page stops polling; it checks again as soon as it is shown.
  if (document.hidden) return;
  activationChecking = true;
  try {
    const me = await api('GET', '/v1/device/me');
    status('');
    if (me.state === 'active') {
      await activated();
      return;
    }
  } catch (e) {
    if (e.code === 'invalid_device_proof') {
      await removedWhilePending();
      return;
    }
    if (e.code === 'device_revoked') return;
    status(e instanceof Unreachable ? e.message : `Cannot check this device’s state: ${e.message}`);
  } finally {
    activationChecking = false;
  }
  scheduleActivationCheck();
}

async function activated() {
  device.state = 'active';
  device.activation_code = null;
  await saveDevice(device);
  await registerPasskey();
  await setUpPushIfAllowed();
  flash('ok', 'This device is now active: it can see and answer your requests.');
  runStream();
  await route();
}

async function removedWhilePending() {
  clearTimeout(activationTimer);
  await forgetDevice();
  device = null;
  document.getElementById('who').textContent = '';
  show(
    el('h1', { text: 'This device was not approved' }),
    notice('bad', 'This device was not approved and has been removed. If you meant to add it, ask for a new enrollment link and approve it from one of your other devices.'),
    el('div', { class: 'actions' }, el('button', { class: 'primary', onclick: () => renderEnroll(), text: 'Enroll again' })),
  );
}

document.addEventListener('visibilitychange', () => {
  if (isPending()) {
    if (document.hidden) clearTimeout(activationTimer);
    else checkActivation();
  }
});

// ---------------------------------------------------------------- home: requests, alerts, devices

// A short message shown at the top of the home view for a while, across the re-renders that
// live updates cause.
let flashed = null;

function flash(kind, text) {
  flashed = { kind, text, until: Date.now() + 20000 };
}

function flashNotice() {
  if (!flashed || Date.now() > flashed.until) { flashed = null; return null; }
  const n = notice(flashed.kind, flashed.text);
  n.id = 'flash';
  return n;
}

let homeRenders = 0;

async function renderHome() {
  if (isPending()) { renderPending(); return; }
  // Only the latest home render shows, and none once another view took the screen meanwhile.
  const view = views;
  const ticket = ++homeRenders;
  const stale = () => ticket !== homeRenders || view !== views;
  let pending, alerts, devices, me, recovery;
  try {
    [pending, alerts, devices, me, recovery] = await Promise.all([
      api('GET', '/v1/device/approvals'), api('GET', '/v1/device/alerts'),
      api('GET', '/v1/device/devices'), api('GET', '/v1/device/me'),
      // The count is a convenience: the home view still loads without it.
      api('GET', '/v1/device/recovery-codes').catch((e) => { if (e instanceof Unreachable) throw e; return null; }),
    ]);
  } catch (e) {
    if (e.code === 'device_revoked' || stale()) return;
    show(el('h1', { text: 'Assent' }), notice('bad', e.message), el('button', { onclick: renderHome, text: 'Try again' }));
    return;
  }
  if (stale()) return;
  shownCodes = false;
  const requests = pending.approvals.length
    ? el('ul', { class: 'plain', id: 'pending' }, pending.approvals.map((a) => el('li', {},
      el('button', { class: 'primary', 'data-approval': a.id, onclick: () => openApproval(a.id) },
        `${KIND_LABELS[a.kind] || a.kind} · ${a.application.name}`),
      el('div', { class: 'time', text: a.binding_message || '' }))))
    : el('p', { id: 'pending-empty', text: 'Nothing waiting for you.' });
  show(
    el('h1', { text: 'Requests' }),
    flashNotice(),
    me.has_passkey ? null : notice('warn', 'No passkey on this device: it cannot approve requests that need a fingerprint, face or PIN check.'),
    notificationOffer(),
    el('section', { class: 'card', 'aria-labelledby': 'h-pending' }, el('h2', { id: 'h-pending', text: 'Waiting for your answer' }), requests),
    el('section', { class: 'card', 'aria-labelledby': 'h-alerts' }, el('h2', { id: 'h-alerts', text: 'Alerts' }),
      alerts.alerts.length
        ? el('ul', { class: 'plain', id: 'alerts' }, alerts.alerts.map((a) => alertItem(a, devices.devices)))
        : el('p', { text: 'No alerts.' })),
    el('section', { class: 'card', 'aria-labelledby': 'h-devices' }, el('h2', { id: 'h-devices', text: 'Your devices' }),
      el('ul', { class: 'plain', id: 'devices' }, devices.devices.map((d) => deviceItem(d)))),
    recoverySection(recovery),
  );
}

// A new-device alert offers "This wasn't me", which revokes that device at once; a device waiting
// for activation is approved or denied in the device list, where the alert leads.
function alertItem(a, devices) {
  const li = el('li', { 'data-alert': a.kind }, el('div', { text: a.message }), el('time', { class: 'time', datetime: a.created_at, text: when(a.created_at) }));
  const other = a.device_id && a.device_id !== device.device_id ? devices.find((d) => d.id === a.device_id) : null;
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

const CHANNEL_LABELS = { web_push: 'Web Push notifications', stream: 'live updates while open' };

function ago(iso) {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, 'second');
}

function deviceItem(d) {
  const mine = d.id === device.device_id;
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
      el('span', { 'data-field': 'channel' }, CHANNEL_LABELS[d.push_channel] || d.push_channel || 'unknown channel')));
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

// ---------------------------------------------------------------- recovery codes

// While new codes are on screen, live updates do not replace them: they are shown only once.
let shownCodes = false;

function recoverySection(recovery) {
  const remaining = recovery ? recovery.remaining : null;
  const count = remaining === null ? 'The number of recovery codes left cannot be read right now.'
    : remaining === 0 ? 'You have no unused recovery codes.'
      : `${remaining} unused recovery code${remaining === 1 ? '' : 's'} left.`;
  return el('section', { class: 'card', 'aria-labelledby': 'h-recovery', id: 'recovery' },
    el('h2', { id: 'h-recovery', text: 'Recovery codes' }),
    el('p', { id: 'recovery-remaining', 'data-remaining': remaining === null ? null : String(remaining), text: count }),
    el('p', { class: 'time', text: 'A recovery code proves it is you when none of your devices can: where you sign in, or to add a new device. Each works once.' }),
    el('div', { class: 'actions' }, el('button', { id: 'generate-recovery', onclick: () => generateRecoveryCodes(remaining), text: 'Generate new codes' })));
}

async function generateRecoveryCodes(remaining) {
  const question = remaining
    ? `Generate new recovery codes? Your ${remaining} unused code${remaining === 1 ? '' : 's'} will stop working at once.`
    : 'Generate new recovery codes? Any earlier codes stop working, and the new ones are shown only once.';
  if (!confirm(question)) return;
  // Held from now on: the alert about the new codes may arrive before they do.
  shownCodes = true;
  let result;
  try {
    result = await api('POST', '/v1/device/recovery-codes', {});
  } catch (e) {
    shownCodes = false;
    if (e.code !== 'device_revoked') status(e.message);
    return;
  }
  renderRecoveryCodes(result.codes);
}

function renderRecoveryCodes(codes) {
  shownCodes = true;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      status('Recovery codes copied.');
    } catch (_) {
      status('This browser does not allow copying here: select the codes and copy them.');
    }
  };
  show(
    el('h1', { text: 'Your new recovery codes' }),
    notice('warn', 'Store them somewhere safe now, such as a password manager or on paper: they are shown only this once. Each code works once, and every earlier code has stopped working.'),
    el('ol', { class: 'codes', id: 'recovery-codes' }, codes.map((c) => el('li', {}, el('code', { text: c })))),
    el('div', { class: 'actions' },
      el('button', { id: 'copy-codes', onclick: copy, text: 'Copy' }),
      el('button', { class: 'primary', id: 'codes-done', onclick: () => { shownCodes = false; renderHome(); }, text: 'I have stored them' })),
  );
}

// ---------------------------------------------------------------- the prompt

let currentPrompt = null;
let countdown = null;

function openApproval(id) {
  location.hash = `#/approval/${encodeURIComponent(id)}`;
}

function describeDetail(d) {
  const rows = [];
  const amount = d.amount !== undefined ? `${d.amount}${d.currency ? ' ' + d.currency : ''}` : null;
  const box = el('div', { class: 'detail' }, el('div', { class: 'time', text: d.type }));
  if (amount) box.append(el('div', { class: 'amount', 'data-field': 'amount', text: amount }));
  for (const [k, v] of Object.entries(d)) {
    if (k === 'type' || (amount && (k === 'amount' || k === 'currency'))) continue;
    rows.push(el('dt', { text: k.replace(/_/g, ' ') }), el('dd', { 'data-field': k, text: typeof v === 'string' ? v : JSON.stringify(v) }));
  }
  if (rows.length) box.append(el('dl', { class: 'context' }, rows));
  return box;
}

async function renderPrompt(id) {
  let a;
  try {
    a = await api('GET', `/v1/device/approvals/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.code === 'device_revoked') return;
    show(el('h1', { text: 'Request' }), notice('bad', e.code === 'not_found' ? 'This request does not exist.' : e.message), backHome());
    return;
  }
  if (a.state !== 'pending') {
    show(el('h1', { text: 'Request' }), notice('warn', finalMessage(a.state)), backHome());
    return;
  }
  const hashOk = (await detailsHash(a)) === a.details_hash;
  currentPrompt = a.id;
  const ctx = a.context || {};
  const place = ctx.geo ? [ctx.geo.city, ctx.geo.country].filter(Boolean).join(', ') : '';
  const codeInput = a.code_required
    ? el('input', { type: 'text', id: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: String(a.code_length || 10), 'aria-describedby': 'code-help' })
    : null;
  const left = el('span', { class: 'countdown', id: 'time-left' });
  const message = el('div', { id: 'prompt-message' });
  const buttons = [
    el('button', { class: 'primary', id: 'approve', type: 'submit', text: 'Approve' }),
    el('button', { type: 'button', id: 'deny', onclick: () => answer(a, 'deny'), text: 'Deny' }),
    el('button', { class: 'danger', type: 'button', id: 'fraud', onclick: () => answer(a, 'fraud'), text: 'Deny and report: this wasn’t me' }),
  ];
  show(
    el('h1', { text: `${KIND_LABELS[a.kind] || a.kind} requested by ${a.application.name}` }),
    hashOk ? null : notice('bad', 'The details of this request do not match their signature hash. Do not approve it.'),
    el('section', { class: 'card', 'aria-label': 'What is asked' },
      a.binding_message ? el('p', { id: 'binding-message' }, el('strong', { text: a.binding_message })) : null,
      (a.authorization_details || []).map(describeDetail),
      el('dl', { class: 'context' },
        el('dt', { text: 'Application' }), el('dd', { text: a.application.name }),
        el('dt', { text: 'Action' }), el('dd', { text: KIND_LABELS[a.kind] || a.kind }),
        el('dt', { text: 'From' }), el('dd', { id: 'from' }, [ctx.ip, place ? `(${place})` : null].filter(Boolean).join(' ') || 'unknown'),
        ctx.user_agent ? [el('dt', { text: 'Browser' }), el('dd', { text: ctx.user_agent })] : null,
        ctx.device_id ? [el('dt', { text: 'Their device' }), el('dd', { text: ctx.device_id })] : null,
        el('dt', { text: 'Asked at' }), el('dd', { text: when(a.created_at) }),
        el('dt', { text: 'Time left' }), el('dd', {}, left))),
    el('form', { onsubmit: (e) => { e.preventDefault(); answer(a, 'approve', codeInput && codeInput.value.trim()); } },
      codeInput ? [el('label', { for: 'code', text: 'Code shown on the sign-in screen' }), codeInput,
        el('p', { id: 'code-help', class: 'time', text: 'Type the number you see where you are signing in. If you see no number, you did not start this: report it.' })] : null,
      a.user_verification_required ? notice('warn', 'Approving needs your passkey: a fingerprint, face or PIN check.') : null,
      message,
      el('div', { class: 'actions' }, buttons)),
  );
  if (codeInput) codeInput.focus();
  const expires = new Date(a.expires_at).getTime();
  clearInterval(countdown);
  const tick = () => {
    const s = Math.max(0, Math.round((expires - Date.now()) / 1000));
    left.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    if (s === 0) {
      clearInterval(countdown);
      buttons.forEach((b) => { b.disabled = true; });
      message.replaceChildren(notice('warn', 'This request has expired.'));
    }
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function finalMessage(state, reason) {
  if (reason === 'wrong_code') return 'The code did not match the one on the sign-in screen, so the request was denied. If you did not start this, report it to your administrator.';
  return {
    approved: 'Approved.', denied: 'Denied.', fraud: 'Denied and reported. Push requests to your account are paused; if someone knows your password, change it.',
    expired: 'This request has expired.', cancelled: 'This request was withdrawn by the application.',
  }[state] || `This request is ${state}.`;
}

async function passkeyAssertion(statement) {
  if (!device.passkey_id) {
    throw new ApiError(422, { code: 'user_verification_required', detail: 'This device has no passkey, so it cannot approve requests that need user verification.' });
  }
  const cred = await navigator.credentials.get({ publicKey: {
    challenge: await sha256(statement),
    rpId: location.hostname,
    allowCredentials: [{ type: 'public-key', id: b64uDecode(device.passkey_id) }],
    userVerification: 'required',
    timeout: 60000,
  } });
  return {
    credential_id: b64u(cred.rawId),
    authenticator_data: b64u(cred.response.authenticatorData),
    client_data_json: b64u(cred.response.clientDataJSON),
    signature: b64u(cred.response.signature),
  };
}

async function answer(a, decision, code) {
  const message = document.getElementById('prompt-message');
  const buttons = main().querySelectorAll('button');
  if (decision === 'approve' && a.code_required && !code) {
    message.replaceChildren(notice('bad', 'Type the code shown on the sign-in screen first.'));
    document.getElementById('code').focus();
    return;
  }
  buttons.forEach((b) => { b.disabled = true; });
  try {
    // An approval signs only what was shown; a refusal is always safe to sign, even of a request
    // whose details do not match their hash (so it can be reported).
    const computed = await detailsHash(a);
    if (computed !== a.details_hash && decision === 'approve') throw new Error('The details do not match their hash; refusing to approve.');
    const hash = decision === 'approve' ? computed : a.details_hash;
    const statement = await signJws(device.privateKey, { typ: 'assent-decision+jws', kid: device.device_id }, {
      request_id: a.id, nonce: a.nonce, details_hash: hash, decision, ...(code ? { code } : {}), iat: now(),
    });
    const body = { statement };
    if (decision === 'approve' && a.user_verification_required) body.user_verification = await passkeyAssertion(statement);
    const result = await api('POST', `/v1/device/approvals/${encodeURIComponent(a.id)}/decision`, body, { auth: false });
    clearInterval(countdown);
    currentPrompt = null;
    show(el('h1', { text: result.state === 'approved' ? 'Approved' : 'Done' }), notice(result.state === 'approved' ? 'ok' : 'warn', finalMessage(result.state)), backHome());
  } catch (e) {
    const final = { wrong_code: ['denied', 'wrong_code'], expired: ['expired'], already_decided: ['already'] }[e.code];
    if (final) {
      clearInterval(countdown);
      currentPrompt = null;
      const text = final[0] === 'already' ? 'This request was already answered (perhaps on another device).' : finalMessage(final[0], final[1]);
      show(el('h1', { text: 'Not approved' }), notice('bad', text), backHome());
      return;
    }
    message.replaceChildren(notice('bad', e.name === 'NotAllowedError' ? 'The passkey check was cancelled or failed; nothing was sent.' : e.message));
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function backHome() {
  return el('div', { class: 'actions' }, el('button', { onclick: () => { location.hash = ''; }, text: 'Back to requests' }));
}

function showRevoked() {
  clearInterval(countdown);
  stopStream();
  show(
    el('h1', { text: 'This device has been revoked' }),
    notice('bad', 'It can no longer see or answer requests. If you did not revoke it, tell your administrator.'),
    el('div', { class: 'actions' }, el('button', { onclick: async () => { await forgetDevice(); device = null; renderEnroll(); }, text: 'Forget this device' })),
  );
}

// ---------------------------------------------------------------- live updates

let streamAbort = null;

function stopStream() {
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
}

// Server-sent events over fetch (EventSource cannot send the device proof header).
async function runStream() {
  stopStream();
  const controller = new AbortController();
  streamAbort = controller;
  let delay = 1000;
  while (!controller.signal.aborted && device) {
    try {
      const res = await fetch('/v1/device/stream', { headers: { DPoP: await proof('GET', '/v1/device/stream'), Accept: 'text/event-stream' }, signal: controller.signal });
      if (!res.ok) {
        const problem = await res.json().catch(() => ({}));
        if (problem.code === 'device_revoked') { showRevoked(); return; }
        throw new Error(problem.detail || `HTTP ${res.status}`);
      }
      status('');
      delay = 1000;
      const reader = res.body.getReader();
      let buffer = '';
      let event = 'message';
      let data = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value, { stream: true });
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (data.length) onStreamEvent(event, data.join('\n'));
            event = 'message';
            data = [];
          } else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      status('Reconnecting to the server…');
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 30000);
  }
}

function onStreamEvent(event, data) {
  let payload = {};
  try { payload = JSON.parse(data); } catch (_) { return; }
  if (event === 'revoked') { showRevoked(); return; }
  if (event === 'resolved' && currentPrompt === payload.id) {
    clearInterval(countdown);
    currentPrompt = null;
    show(el('h1', { text: 'Request ended' }), notice('warn', finalMessage(payload.state)), backHome());
    return;
  }
  refreshHome();
}

// Live updates redraw the home view, but never under the user's fingers: not while a prompt or
// new recovery codes are shown, nor while a field is being typed in (it retries a little later).
let refreshTimer = null;

function refreshHome() {
  clearTimeout(refreshTimer);
  if (!device || isPending() || currentPrompt || location.hash.startsWith('#/approval/')) return;
  const typing = [...main().querySelectorAll('input')].some((i) => i === document.activeElement || i.value !== i.defaultValue);
  if (shownCodes || typing) {
    refreshTimer = setTimeout(refreshHome, 3000);
    return;
  }
  renderHome();
}

// ---------------------------------------------------------------- start

async function route() {
  if (!device) return;
  if (isPending()) { renderPending(); return; }
  const m = location.hash.match(/^#\/approval\/([^/]+)$/);
  if (m) await renderPrompt(decodeURIComponent(m[1]));
  else { currentPrompt = null; clearInterval(countdown); await renderHome(); }
}

async function start() {
  if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) {
    show(el('h1', { text: 'Assent' }), notice('bad', 'This browser cannot hold a device key here: Assent needs a secure context (https), WebCrypto and IndexedDB.'));
    return;
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((e) => console.warn('service worker', e));
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'open' && e.data.id && device) openApproval(e.data.id);
    });
  }
  device = await loadDevice();
  const enrolling = location.pathname.endsWith('/app/enroll');
  if (!device) {
    if (enrolling && location.hash.includes('code=')) await runEnroll(location.href);
    else renderEnroll();
    return;
  }
  if (enrolling) {
    history.replaceState(null, '', '/app/');
    status('This browser is already enrolled.');
  }
  await enter();
}

// With an enrolled device: a held one waits for activation, an active one listens and shows
// the requested view.
let routing = false;

async function enter() {
  document.getElementById('who').textContent = device.user;
  if (!routing) {
    window.addEventListener('hashchange', route);
    routing = true;
  }
  if (isPending()) { renderPending(); return; }
  runStream();
  await route();
}

start();
