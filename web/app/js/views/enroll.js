// Owns enrollment: reading the link, checking the server's key against its fingerprint, creating
// the device key, and the screen that asks for a link.
import { api } from '../api.js';
import { now, publicJwk, signEnrollment, thumbprint, verifyJws } from '../crypto.js';
import { saveDevice } from '../keystore.js';
import { setUpPasskey } from '../passkey.js';
import { setUpPushIfAllowed } from '../push.js';
import { enter } from '../router.js';
import { state } from '../state.js';
import { el, notice, show, status } from '../ui.js';

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
  const enrollProof = await signEnrollment(pair.privateKey, jwk, { code, name, platform: 'web', iat: now() });
  const enrolled = await api('POST', '/v1/device/enroll', { proof: enrollProof }, { auth: false });
  const registration = await verifyJws(enrolled.registration, serverJwk).catch(() => null);
  if (!registration || registration.jkt !== (await thumbprint(jwk)) || registration.device_id !== enrolled.device_id) {
    throw new Error('The server’s confirmation is not signed by the expected key; enrollment not trusted.');
  }
  // A device held for trusted registration keeps its activation code, to show it again after a
  // reload until one of the user's active devices approves it.
  const pending = enrolled.state === 'pending_activation';
  state.device = {
    device_id: enrolled.device_id, user: enrolled.user, name, privateKey: pair.privateKey, jwk, server_jwk: serverJwk, passkey_id: null,
    state: pending ? 'pending_activation' : 'active', activation_code: pending ? enrolled.activation_code : null,
  };
  await saveDevice(state.device);
  history.replaceState(null, '', '/app/');
  await setUpPasskey();
  // Subscribing may ask for permission, which browsers expect from a click: only when granted.
  if (!pending) await setUpPushIfAllowed();
  status('');
}

export function renderEnroll(error) {
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

export async function runEnroll(link) {
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
