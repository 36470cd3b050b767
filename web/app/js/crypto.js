// Owns the device protocol's encodings and signatures: base64url, SHA-256, canonical JSON, the
// details hash, JWK thumbprints and ES256 JWS, all on WebCrypto. Pure: it imports nothing and
// touches no browser-only API, so it runs under Node too (tests/web/crypto.test.mjs).

const enc = new TextEncoder();

export const utf8 = (text) => enc.encode(text);

export function b64u(bytes) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function b64uDecode(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', typeof bytes === 'string' ? enc.encode(bytes) : bytes));
}

// RFC 8785: keys sorted by UTF-16 code units (JavaScript's default string order), numbers and
// strings as JSON.stringify writes them.
export function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
}

// What a device signs over: the hash of what it was shown (protocol.md, "The details hash").
export async function detailsHash(approval) {
  const details = {
    authorization_details: approval.authorization_details || [],
    binding_message: approval.binding_message ?? null,
    kind: approval.kind,
  };
  return b64u(await sha256(canonical(details)));
}

// RFC 7638 thumbprint of a P-256 public key: its required members in lexicographic order.
export async function thumbprint(jwk) {
  return b64u(await sha256(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`));
}

export function publicJwk(jwk) {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

export async function signJws(privateKey, header, payload) {
  const input = b64u(enc.encode(JSON.stringify({ alg: 'ES256', ...header }))) + '.' + b64u(enc.encode(JSON.stringify(payload)));
  // WebCrypto's ECDSA signature is r || s (IEEE P1363), which is exactly JWS ES256.
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, enc.encode(input));
  return input + '.' + b64u(sig);
}

export async function verifyJws(jws, jwk) {
  const [h, p, s] = jws.split('.');
  const key = await crypto.subtle.importKey('jwk', publicJwk(jwk), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b64uDecode(s), enc.encode(h + '.' + p));
  if (!ok) throw new Error('bad signature');
  return JSON.parse(new TextDecoder().decode(b64uDecode(p)));
}

// The four statements a device signs (protocol.md: "Enrollment", "Device proofs", "The decision
// statement", "The acknowledgement statement"), each with its header and claims in a fixed order;
// the protocol's test vectors pin a proof's, a decision's and an acknowledgement's encoding byte
// for byte.

export function signEnrollment(privateKey, jwk, { code, name, platform, iat }) {
  return signJws(privateKey, { typ: 'assent-enroll+jws', jwk }, { code, name, platform, iat });
}

export function signProof(privateKey, jwk, { jti, htm, htu, iat }) {
  return signJws(privateKey, { typ: 'dpop+jwt', jwk }, { jti, htm, htu, iat });
}

// `code` is included only when the user typed one.
export function signDecision(privateKey, kid, { request_id, nonce, details_hash, decision, code, iat }) {
  return signJws(privateKey, { typ: 'assent-decision+jws', kid }, {
    request_id, nonce, details_hash, decision, ...(code ? { code } : {}), iat,
  });
}

// What an acknowledgement signs over: the hash of the broadcast's message, over its exact UTF-8
// bytes (nothing trimmed or normalized).
export async function messageHash(message) {
  return b64u(await sha256(message));
}

export function signBroadcastAck(privateKey, kid, { broadcast_id, user, message_hash, iat }) {
  return signJws(privateKey, { typ: 'assent-broadcast-ack+jws', kid }, { broadcast_id, user, message_hash, iat });
}

export const now = () => Math.floor(Date.now() / 1000);
export const randomId = () => b64u(crypto.getRandomValues(new Uint8Array(16)));
