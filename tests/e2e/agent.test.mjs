// An agent's story in real Chromium: "Invoice assistant", registered for alice, asks through
// CIBA (private_key_jwt, signed here with jose) to pay 1250.00 EUR to ACME GmbH; alice reads
// every detail on her web authenticator and approves with the code; the agent gets a grant bound
// to its key (a DPoP proof made with jose), and a payment API written in Python with PyJWT
// (tests/interop/resource_server.py) pays exactly that, and refuses the token without its
// proof, with another key's proof, for another amount, after revocation and after expiry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { startDemo, launchBrowser, enrolledAuthenticator, screenshot, root } from './support.mjs';
import { cliJson, jwksFile, randomId, sha256, b64u, python, verifyTokenResponse } from './ciba-support.mjs';

const PAYMENT = {
  type: 'payment_initiation', amount: '1250.00', currency: 'EUR', creditor: 'ACME GmbH', iban: 'DE02120300000000202051',
  remittance_information: 'Invoice INV-2041', creditor_address: { city: 'Berlin', country: 'DE' },
};

let demo;
let browser;
let auth; // alice's web authenticator
let agent; // { clientId, key: { publicKey, privateKey }, kid, jwk }
let payments; // the Python resource server: { url, stop }

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  auth = await enrolledAuthenticator(browser, demo.users.alice.enrollment_link);
  const key = await generateKeyPair('ES256', { extractable: true });
  const kid = randomId(8);
  const jwk = { ...(await exportJWK(key.publicKey)), kid, alg: 'ES256', use: 'sig' };
  const file = jwksFile(demo, 'invoice-assistant', [jwk]);
  const created = await cliJson(demo, ['admin', 'agent', 'create', 'Invoice assistant', '--owner', 'alice', '--jwks', file, '--types', 'payment_initiation']);
  assert.equal(created.token_endpoint_auth_method, 'private_key_jwt');
  assert.equal(created.owner, 'alice');
  agent = { clientId: created.client_id, key, kid, jwk };
  // The payment API authenticates to the introspection endpoint as a client of its own.
  const api = await cliJson(demo, ['admin', 'app', 'create', 'Payments API']);
  const rs = await cliJson(demo, ['admin', 'ciba', 'create', api.app_id, '--mode', 'poll']);
  payments = await startResourceServer(demo.assent_url, rs.client_id, rs.client_secret);
});

after(async () => {
  payments?.stop();
  await browser?.close();
  demo?.stop();
});

async function startResourceServer(issuer, clientId, secret) {
  const child = spawn(python(), [join(root, 'tests', 'interop', 'resource_server.py'), issuer, clientId, secret], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (d) => { errors += d; });
  const first = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`resource_server.py exited with ${code}: ${errors}`)));
  });
  const { port } = JSON.parse(first);
  return { url: `http://127.0.0.1:${port}/payments`, stop: () => child.kill('SIGTERM') };
}

/** A private_key_jwt client assertion (RFC 7523), signed with the agent's key. */
function assertion() {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomId() })
    .setProtectedHeader({ alg: 'ES256', kid: agent.kid })
    .setIssuer(agent.clientId).setSubject(agent.clientId).setAudience(demo.assent_url)
    .setIssuedAt(now).setExpirationTime(now + 60)
    .sign(agent.key.privateKey);
}

/** A DPoP proof (RFC 9449) for one request, by `key` (the agent's unless given). */
async function dpopProof(method, url, { token, key = agent.key } = {}) {
  const claims = { htm: method, htu: url, iat: Math.floor(Date.now() / 1000), jti: randomId() };
  if (token) claims.ath = b64u(sha256(token));
  const { kty, crv, x, y } = await exportJWK(key.publicKey);
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } }).sign(key.privateKey);
}

/** A form POST to one of Assent's OAuth endpoints, authenticated as the agent. */
async function oauthPost(path, params, headers = {}) {
  const body = new URLSearchParams({
    client_id: agent.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(),
    ...params,
  });
  const res = await fetch(`${demo.assent_url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: res.status, body: await res.json() };
}

/** The agent asks alice, alice approves in Chromium with the code, the agent takes its grant. */
async function approvedGrant(extra = {}) {
  const started = await oauthPost('/oauth2/bc-authorize', {
    scope: 'openid', login_hint: 'alice', authorization_details: JSON.stringify([PAYMENT]), ...extra,
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { auth_req_id: authReqId, display_code: code } = started.body;
  assert.match(code, /^\d{6}$/);

  const { page } = auth;
  await page.goto(`${demo.assent_url}/app/`);
  const item = page.locator('button[data-approval]', { hasText: 'Invoice assistant' });
  await item.waitFor({ timeout: 15000 });
  assert.match(await item.textContent(), /Agent action · Invoice assistant/);
  await item.click();
  await page.locator('#approve').waitFor();
  // The owner reads who acts and exactly what it asks, every field, not "allow the agent".
  assert.equal(await page.locator('h1').textContent(), 'Agent Invoice assistant, acting for you, asks to:');
  const detail = page.locator('.detail');
  assert.equal(await detail.count(), 1);
  assert.equal(await detail.locator('[data-field="amount"]').textContent(), '1250.00 EUR');
  assert.equal(await detail.locator('[data-field="creditor"]').textContent(), 'ACME GmbH');
  assert.equal(await detail.locator('[data-field="iban"]').textContent(), 'DE02120300000000202051');
  assert.equal(await detail.locator('[data-field="remittance_information"]').textContent(), 'Invoice INV-2041');
  assert.equal(await detail.locator('[data-field="creditor_address.city"]').textContent(), 'Berlin');
  assert.equal(await detail.locator('[data-field="creditor_address.country"]').textContent(), 'DE');
  assert.deepEqual(await detail.locator('dt').allTextContents(),
    ['creditor', 'creditor address city', 'creditor address country', 'iban', 'remittance information']);
  assert.match(await detail.textContent(), /payment_initiation/);
  assert.doesNotMatch(await page.locator('main').textContent(), /allow the agent/i);
  await page.getByLabel('Code shown by the agent').fill(code);
  await screenshot(page, 'agent-prompt');
  await page.locator('#approve').click();
  await page.getByRole('heading', { name: 'Approved' }).waitFor();

  const url = `${demo.assent_url}/oauth2/token`;
  const tokens = await oauthPost('/oauth2/token', { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId }, { DPoP: await dpopProof('POST', url) });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  assert.equal(tokens.body.token_type, 'DPoP');
  return tokens.body;
}

/** Asks the payment API to pay `payment` with `token`; headers as the caller chooses. */
async function pay(token, { payment = PAYMENT, proof, scheme = 'DPoP' } = {}) {
  const headers = { 'Content-Type': 'application/json', Authorization: `${scheme} ${token}` };
  if (proof !== undefined) headers.DPoP = proof;
  const res = await fetch(payments.url, { method: 'POST', headers, body: JSON.stringify(payment) });
  return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}

const goodProof = (token) => dpopProof('POST', payments.url, { token });

test('an agent asks, its owner approves every detail in Chromium, and a PyJWT resource server pays exactly that', async () => {
  const tokens = await approvedGrant();
  const { users } = await cliJson(demo, ['admin', 'user', 'list']);
  const alice = users.find((u) => u.username === 'alice');
  const claims = await verifyTokenResponse(demo.assent_url, tokens, { clientId: agent.clientId, sub: alice.id });
  assert.equal(claims.access.cnf.jkt, await calculateJwkThumbprint(agent.jwk), 'bound to the agent\'s key');
  assert.deepEqual(claims.access.authorization_details, [PAYMENT]);

  // The right request: the token, a fresh proof for this request and token, the approved payment.
  const paid = await pay(tokens.access_token, { proof: await goodProof(tokens.access_token) });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.deepEqual(paid.body, { paid: true, approval_id: claims.access.approval_id, sub: alice.id });

  // No proof: a stolen token alone is worth nothing.
  const bare = await pay(tokens.access_token);
  assert.deepEqual([bare.status, bare.body.error], [401, 'invalid_dpop_proof'], JSON.stringify(bare.body));
  assert.match(bare.challenge, /^DPoP error="invalid_dpop_proof"/);
  const asBearer = await pay(tokens.access_token, { scheme: 'Bearer', proof: await goodProof(tokens.access_token) });
  assert.deepEqual([asBearer.status, asBearer.body.error], [401, 'invalid_token'], JSON.stringify(asBearer.body));
  // A proof by another key: the thief's own key is not the one the token is bound to.
  const thief = await generateKeyPair('ES256', { extractable: true });
  const stolen = await pay(tokens.access_token, { proof: await dpopProof('POST', payments.url, { token: tokens.access_token, key: thief }) });
  assert.deepEqual([stolen.status, stolen.body.reason], [401, 'the proof\'s key is not the one the token is bound to'], JSON.stringify(stolen.body));
  // A proof made for another request, or replayed.
  const elsewhere = await pay(tokens.access_token, { proof: await dpopProof('POST', `${payments.url}/other`, { token: tokens.access_token }) });
  assert.deepEqual([elsewhere.status, elsewhere.body.reason], [401, 'the proof was made for another request'], JSON.stringify(elsewhere.body));
  const once = await goodProof(tokens.access_token);
  assert.equal((await pay(tokens.access_token, { proof: once })).status, 200);
  const replayed = await pay(tokens.access_token, { proof: once });
  assert.deepEqual([replayed.status, replayed.body.reason], [401, 'the proof was used before (jti)'], JSON.stringify(replayed.body));
  // A different amount, or another creditor: not what alice approved.
  for (const payment of [{ ...PAYMENT, amount: '12500.00' }, { ...PAYMENT, iban: 'DE89370400440532013000' }]) {
    const other = await pay(tokens.access_token, { payment, proof: await goodProof(tokens.access_token) });
    assert.deepEqual([other.status, other.body.error], [403, 'insufficient_authorization'], JSON.stringify(other.body));
  }

  // Revoked (RFC 7009) by the agent: the signature and exp still hold, introspection says no.
  const revoked = await oauthPost('/oauth2/revoke', { token: tokens.access_token });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  const after = await pay(tokens.access_token, { proof: await goodProof(tokens.access_token) });
  assert.deepEqual([after.status, after.body.reason], [401, 'the token is not active (introspection)'], JSON.stringify(after.body));
});

test('a grant asked for two seconds pays at once and is refused once it expired', async () => {
  const tokens = await approvedGrant({ access_token_lifetime: '2' });
  assert.equal(tokens.expires_in, 2);
  const paid = await pay(tokens.access_token, { proof: await goodProof(tokens.access_token) });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  await new Promise((r) => setTimeout(r, 3000));
  const late = await pay(tokens.access_token, { proof: await goodProof(tokens.access_token) });
  assert.deepEqual([late.status, late.body.reason], [401, 'the token has expired'], JSON.stringify(late.body));
});
