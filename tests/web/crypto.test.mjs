// The web authenticator's crypto module (web/app/js/crypto.js) against the device protocol's test
// vectors (testdata/protocol-vectors.json), under Node: `node --test tests/web/`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  b64u, b64uDecode, canonical, detailsHash, messageHash, publicJwk, sha256, signBroadcastAck, signDecision, signProof,
  thumbprint, verifyJws,
} from '../../web/app/js/crypto.js';

const source = new URL('../../web/app/js/crypto.js', import.meta.url);
const vectors = JSON.parse(readFileSync(new URL('../../testdata/protocol-vectors.json', import.meta.url), 'utf8'));
const { broadcast_ack: broadcastAck, decision, details, device_key: deviceKey, device_proof: deviceProof } = vectors;
const canonicalVectors = JSON.parse(readFileSync(new URL('../../testdata/canonical-vectors.json', import.meta.url), 'utf8'));

const importPrivateKey = () => crypto.subtle.importKey('pkcs8', b64uDecode(deviceKey.pkcs8), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
const decodePart = (part) => JSON.parse(new TextDecoder().decode(b64uDecode(part)));

test('the module imports nothing, so it holds no browser-only dependency', () => {
  assert.doesNotMatch(readFileSync(source, 'utf8'), /^\s*import\b|\bimport\s*\(/m);
});

test('base64url round-trips every byte value without padding', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = b64u(bytes);
  assert.match(text, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(b64uDecode(text), bytes);
  assert.equal(b64u(bytes.buffer), text, 'an ArrayBuffer encodes like its bytes');
  for (let n = 0; n < 4; n++) assert.deepEqual(b64uDecode(b64u(bytes.subarray(0, n))), bytes.subarray(0, n));
  assert.equal(b64u(new Uint8Array([0xfb, 0xff])), '-_8');
});

test('SHA-256 of the empty string and of "abc" (FIPS 180-2)', async () => {
  assert.equal(Buffer.from(await sha256('')).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(Buffer.from(await sha256(new TextEncoder().encode('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('canonical JSON of the details vector is the given bytes', () => {
  const value = { kind: details.kind, binding_message: details.binding_message, authorization_details: details.authorization_details };
  assert.equal(canonical(value), details.canonical);
  // The vector's own key order does not matter.
  const reordered = JSON.parse(JSON.stringify(value), (_, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).reverse()) : v));
  assert.equal(canonical(reordered), details.canonical);
});

test('canonical JSON sorts keys by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
  const value = JSON.parse('{"\\u20ac":"Euro","\\r":"cr","1":"one","\\ud83d\\ude00":"smile","\\u0080":"ctl","\\u00f6":"o"}');
  assert.equal(canonical(value), '{"\\r":"cr","1":"one","\u0080":"ctl","\u00f6":"o","\u20ac":"Euro","\ud83d\ude00":"smile"}');
});

test('canonical JSON writes numbers as RFC 8785 does (the Rust encoder\'s cases)', () => {
  const cases = [
    ['0', '0'], ['-0', '0'], ['1e30', '1e+30'], ['4.50', '4.5'], ['2e-3', '0.002'], ['0.000001', '0.000001'],
    ['1e-7', '1e-7'], ['333333333.33333329', '333333333.3333333'], ['9007199254740991', '9007199254740991'],
    ['-9007199254740991', '-9007199254740991'], ['594590119111951057.991', '594590119111951100'],
  ];
  for (const [input, expected] of cases) assert.equal(canonical(JSON.parse(input)), expected, input);
  assert.equal(canonical({ b: [true, null, 'x\n"'], a: {} }), '{"a":{},"b":[true,null,"x\\n\\""]}');
});

test('the canonical vectors: numbers, escapes, non-ASCII text and key order encode and hash as given', async () => {
  assert.ok(canonicalVectors.accepted.length >= 4);
  for (const vector of canonicalVectors.accepted) {
    // The raw text as a relying party sent it, read by JSON.parse as a device reads it.
    const approval = { kind: vector.kind, binding_message: vector.binding_message, authorization_details: JSON.parse(vector.authorization_details) };
    assert.equal(canonical(approval), vector.canonical, vector.name);
    assert.equal(await detailsHash(approval), vector.details_hash, vector.name);
  }
});

test('the details hash of the vector request is its details_hash, and the decision signs that hash', async () => {
  const approval = { kind: details.kind, binding_message: details.binding_message, authorization_details: details.authorization_details };
  assert.equal(await detailsHash(approval), details.details_hash);
  assert.equal(decision.payload.details_hash, details.details_hash);
  assert.equal(b64u(await sha256(details.canonical)), details.details_hash);
  // Missing details and binding message hash as [] and null.
  assert.equal(await detailsHash({ kind: 'login' }), b64u(await sha256('{"authorization_details":[],"binding_message":null,"kind":"login"}')));
  assert.notEqual(await detailsHash({ ...approval, binding_message: 'Send 250.00 EUR to Eve' }), details.details_hash);
});

test('the RFC 7638 thumbprint of the device key', async () => {
  assert.equal(await thumbprint(deviceKey.jwk), deviceKey.thumbprint);
  // WebCrypto's extra members and the member order do not change it.
  assert.equal(await thumbprint({ key_ops: ['verify'], ext: true, y: deviceKey.jwk.y, x: deviceKey.jwk.x, kty: 'EC', crv: 'P-256' }), deviceKey.thumbprint);
  assert.deepEqual(Object.keys(publicJwk({ ...deviceKey.jwk, ext: true, key_ops: ['verify'] })), ['kty', 'crv', 'x', 'y']);
});

test('the vector decision and device proof verify with the device key', async () => {
  assert.deepEqual(await verifyJws(decision.jws, deviceKey.jwk), decision.payload);
  assert.deepEqual(decodePart(decision.jws.split('.')[0]), { alg: 'ES256', typ: 'assent-decision+jws', kid: decision.kid });
  assert.deepEqual(await verifyJws(deviceProof.jws, deviceKey.jwk), deviceProof.payload);
  assert.deepEqual(decodePart(deviceProof.jws.split('.')[0]), { alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk(deviceKey.jwk) });
});

test('a tampered or foreign JWS does not verify', async () => {
  const [h, p, s] = decision.jws.split('.');
  const sig = b64uDecode(s);
  sig[10] ^= 1;
  await assert.rejects(verifyJws(`${h}.${p}.${b64u(sig)}`, deviceKey.jwk), /bad signature/);
  const payload = b64u(new TextEncoder().encode(JSON.stringify({ ...decision.payload, decision: 'deny' })));
  await assert.rejects(verifyJws(`${h}.${payload}.${s}`, deviceKey.jwk), /bad signature/);
  // The proof's signature over the decision's input.
  await assert.rejects(verifyJws(`${h}.${p}.${deviceProof.jws.split('.')[2]}`, deviceKey.jwk), /bad signature/);
  const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  await assert.rejects(verifyJws(decision.jws, await crypto.subtle.exportKey('jwk', other.publicKey)), /bad signature/);
});

test('a decision signed here encodes exactly as the vector and verifies', async () => {
  const key = await importPrivateKey();
  const { request_id, nonce, details_hash, decision: answer, code, iat } = decision.payload;
  const jws = await signDecision(key, decision.kid, { request_id, nonce, details_hash, decision: answer, code, iat });
  const parts = jws.split('.');
  assert.equal(parts.length, 3);
  // ECDSA signatures are randomized: the header and payload match byte for byte, the signature
  // only has to verify.
  assert.equal(`${parts[0]}.${parts[1]}`, decision.jws.split('.').slice(0, 2).join('.'));
  assert.equal(b64uDecode(parts[2]).length, 64, 'r || s, 32 bytes each');
  assert.deepEqual(await verifyJws(jws, deviceKey.jwk), decision.payload);
  // Without a code, the claim is left out.
  const deny = await signDecision(key, decision.kid, { request_id, nonce, details_hash, decision: 'deny', code: '', iat });
  assert.deepEqual(Object.keys(await verifyJws(deny, deviceKey.jwk)), ['request_id', 'nonce', 'details_hash', 'decision', 'iat']);
});

test('a device proof signed here encodes exactly as the vector and verifies', async () => {
  const key = await importPrivateKey();
  const { jti, htm, htu, iat } = deviceProof.payload;
  const jws = await signProof(key, publicJwk(deviceKey.jwk), { jti, htm, htu, iat });
  const parts = jws.split('.');
  assert.equal(`${parts[0]}.${parts[1]}`, deviceProof.jws.split('.').slice(0, 2).join('.'));
  assert.deepEqual(await verifyJws(jws, deviceKey.jwk), deviceProof.payload);
});

test('the message hash of the broadcast vector is its message_hash, over the exact bytes', async () => {
  assert.equal(await messageHash(broadcastAck.message), broadcastAck.payload.message_hash);
  // Nothing is trimmed or normalized: a trailing space or a CR LF is another message.
  assert.notEqual(await messageHash(`${broadcastAck.message} `), broadcastAck.payload.message_hash);
  assert.notEqual(await messageHash(broadcastAck.message.replace('\n', '\r\n')), broadcastAck.payload.message_hash);
});

test('the vector acknowledgement verifies, and one signed here encodes exactly as it', async () => {
  assert.deepEqual(await verifyJws(broadcastAck.jws, deviceKey.jwk), broadcastAck.payload);
  assert.deepEqual(decodePart(broadcastAck.jws.split('.')[0]), { alg: 'ES256', typ: 'assent-broadcast-ack+jws', kid: broadcastAck.kid });
  const key = await importPrivateKey();
  const { broadcast_id, user, message_hash, iat } = broadcastAck.payload;
  const jws = await signBroadcastAck(key, broadcastAck.kid, { broadcast_id, user, message_hash, iat });
  const parts = jws.split('.');
  assert.equal(`${parts[0]}.${parts[1]}`, broadcastAck.jws.split('.').slice(0, 2).join('.'));
  assert.deepEqual(await verifyJws(jws, deviceKey.jwk), broadcastAck.payload);
  // A decision's signature is no acknowledgement's.
  await assert.rejects(verifyJws(`${parts[0]}.${parts[1]}.${decision.jws.split('.')[2]}`, deviceKey.jwk), /bad signature/);
});
