// OpenID CIBA against independent implementations: openid-client (discovery, backchannel
// authentication, the token poll, client_secret_basic and private_key_jwt) as the client, jose
// as the verifier of every token, and `assent device` as the user's authenticator. Poll, ping
// and push modes, each with an approval, a denial and (ping, push) an expiry. `assent serve`
// runs with private notification endpoints allowed (they are on 127.0.0.1 here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { SignJWT, exportJWK, generateKeyPair, decodeJwt } from 'jose';
import {
  startServe, cli, cliJson, cliUser, jwksFile, approveOnCli, denyOnCli, notificationEndpoint,
  verifyTokenResponse, atHash, randomId,
} from './ciba-support.mjs';

let server;
let appId;
let alice; // a user with a command-line authenticator, for the poll tests

before(async () => {
  server = await startServe({
    ASSENT_PUSH__ALLOW_PRIVATE_ENDPOINTS: 'true',
    ASSENT_CIBA__INTERVAL_SECS: '1',
    ASSENT_WEBHOOKS__POLL_MS: '200',
    ASSENT_WEBHOOKS__INITIAL_BACKOFF_MS: '200',
  });
  appId = (await cliJson(server, ['admin', 'app', 'create', 'Acme Bank'])).app_id;
  alice = await cliUser(server, 'alice');
});

after(() => server?.stop());

/** openid-client's view of Assent, from discovery, for one client. */
function discover(clientId, auth) {
  return client.discovery(new URL(server.issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

/** A token request made by hand (client_secret_basic): resolves with the status and body. */
async function tokenRequest(clientId, secret, authReqId) {
  const res = await fetch(`${server.issuer}/oauth2/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId }),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * The OAuth error code a rejected openid-client call carries; for a 401 with a challenge
 * (RFC 6749, 5.2), the body's code and the challenge's scheme.
 */
async function oauthError(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE') {
      const body = await e.response.json();
      return `${body.error} (${e.status}, ${e.cause.map((c) => c.scheme).join(' ')})`;
    }
    return e.error ?? e.code ?? e.message;
  }
  throw new Error('the call succeeded');
}

test('discovery: openid-client reads the metadata, CIBA members included', async () => {
  const { client_id: clientId, client_secret: secret } = await cliJson(server, ['admin', 'ciba', 'create', appId, '--mode', 'poll']);
  const config = await discover(clientId, client.ClientSecretBasic(secret));
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, server.issuer);
  assert.equal(meta.backchannel_authentication_endpoint, `${server.issuer}/oauth2/bc-authorize`);
  assert.equal(meta.token_endpoint, `${server.issuer}/oauth2/token`);
  assert.deepEqual(meta.backchannel_token_delivery_modes_supported, ['poll', 'ping', 'push']);
  assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256']);
  assert.ok(meta.grant_types_supported.includes('urn:openid:params:grant-type:ciba'));
});

test('poll mode with client_secret_basic: approved on the CLI authenticator, tokens verify with jose', async () => {
  const { client_id: clientId, client_secret: secret, token_endpoint_auth_method: method } =
    await cliJson(server, ['admin', 'ciba', 'create', appId, '--mode', 'poll']);
  assert.equal(method, 'client_secret_basic');
  const config = await discover(clientId, client.ClientSecretBasic(secret));

  const message = 'Sign in to Acme Bank (basic)';
  const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice', binding_message: message });
  assert.ok(started.auth_req_id.length >= 43);
  assert.equal(started.interval, 1);
  assert.match(started.display_code, /^\d{6}$/);
  const shown = await approveOnCli(server, alice.profile, message, started.display_code);
  assert.equal(shown.application.name, 'Acme Bank');

  const tokens = await client.pollBackchannelAuthenticationGrant(config, started);
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  const claims = await verifyTokenResponse(server.issuer, tokens, { clientId, sub: alice.id });
  assert.equal(claims.idHeader.alg, 'ES256');
  assert.equal(claims.id.acr, 'urn:assent:acr:device');
  assert.deepEqual(claims.id.amr, ['pop', 'user']);
  assert.ok(claims.id.auth_time <= claims.id.iat);
  assert.equal(claims.access.scope, 'openid');
  assert.equal(claims.access.approval_id, shown.id);
  assert.equal(claims.id['urn:openid:params:jwt:claim:auth_req_id'], undefined, 'only push mode names the request in the ID token');
  assert.ok(tokens.receipt, 'the approval\'s receipt comes with the tokens');

  // jose refuses what is not Assent's: a tampered access token, a token signed by another key,
  // and an ID token for another client.
  const [h, p, s] = tokens.access_token.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims.access, sub: 'mallory' })).toString('base64url');
  await assert.rejects(verifyTokenResponse(server.issuer, { ...tokens, access_token: `${h}.${forgedPayload}.${s}` }, { clientId, sub: alice.id }));
  const stranger = await generateKeyPair('ES256');
  const foreign = await new SignJWT(claims.access).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: claims.accessHeader.kid }).sign(stranger.privateKey);
  await assert.rejects(verifyTokenResponse(server.issuer, { ...tokens, access_token: foreign }, { clientId, sub: alice.id }));
  await assert.rejects(verifyTokenResponse(server.issuer, tokens, { clientId: 'another-client', sub: alice.id }), /aud/);
  assert.notEqual(atHash(foreign), claims.id.at_hash, 'at_hash ties the ID token to its own access token');

  // The grant is issued once: polling again is refused.
  assert.equal(await oauthError(client.pollBackchannelAuthenticationGrant(config, started)), 'invalid_grant');
  // A wrong secret is invalid_client.
  const wrong = await discover(clientId, client.ClientSecretBasic(`${secret}x`));
  assert.equal(await oauthError(client.initiateBackchannelAuthentication(wrong, { scope: 'openid', login_hint: 'alice' })), 'invalid_client (401, basic)');
});

test('poll mode with private_key_jwt: a P-256 key made here, no shared secret', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomId(8);
  const jwks = jwksFile(server, 'client', [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }]);
  const registered = await cliJson(server, ['admin', 'ciba', 'create', appId, '--mode', 'poll', '--jwks', jwks]);
  assert.equal(registered.token_endpoint_auth_method, 'private_key_jwt');
  assert.equal(registered.client_secret, undefined, 'a key-authenticated client gets no secret');
  const clientId = registered.client_id;
  const config = await discover(clientId, client.PrivateKeyJwt({ key: privateKey, kid }));

  const message = 'Sign in to Acme Bank (key)';
  const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'alice', binding_message: message });
  await approveOnCli(server, alice.profile, message, started.display_code);
  const tokens = await client.pollBackchannelAuthenticationGrant(config, started);
  const claims = await verifyTokenResponse(server.issuer, tokens, { clientId, sub: alice.id });
  assert.equal(claims.access.client_id, clientId);
  assert.equal(claims.access.cnf, undefined, 'no DPoP proof, no binding');

  // An assertion signed by another key is refused.
  const other = await generateKeyPair('ES256', { extractable: true });
  const impostor = await discover(clientId, client.PrivateKeyJwt({ key: other.privateKey, kid }));
  assert.equal(await oauthError(client.initiateBackchannelAuthentication(impostor, { scope: 'openid', login_hint: 'alice' })), 'invalid_client');
});

test('ping mode: the notification carries the client\'s bearer token and the auth_req_id; approval, denial, expiry', async () => {
  const bob = await cliUser(server, 'bob');
  const endpoint = await notificationEndpoint();
  try {
    const { client_id: clientId, client_secret: secret } = await cliJson(server, ['admin', 'ciba', 'create', appId, '--mode', 'ping', '--notification-endpoint', endpoint.url]);
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const ask = async (message, extra = {}) => {
      const token = randomId(24);
      const started = await client.initiateBackchannelAuthentication(config, {
        scope: 'openid', login_hint: 'bob', binding_message: message, client_notification_token: token, ...extra,
      });
      return { started, token };
    };
    const ping = async ({ started, token }) => {
      const note = await endpoint.next();
      assert.equal(note.method, 'POST');
      assert.equal(note.path, '/ciba/notify');
      assert.equal(note.authorization, `Bearer ${token}`);
      assert.match(note.contentType, /^application\/json/);
      assert.deepEqual(note.body, { auth_req_id: started.auth_req_id });
    };

    // A token request before the user answered is pending; no ping has been sent.
    const approved = await ask('Pay 20.00 EUR (ping)');
    const early = await tokenRequest(clientId, secret, approved.started.auth_req_id);
    assert.deepEqual([early.status, early.body.error], [400, 'authorization_pending']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(endpoint.pending(), 0, 'no ping before the user answered');
    await approveOnCli(server, bob.profile, 'Pay 20.00 EUR (ping)', approved.started.display_code);
    await ping(approved);
    const tokens = await client.pollBackchannelAuthenticationGrant(config, approved.started);
    await verifyTokenResponse(server.issuer, tokens, { clientId, sub: bob.id });

    const denied = await ask('Pay 30.00 EUR (ping)');
    await denyOnCli(server, bob.profile, 'Pay 30.00 EUR (ping)');
    await ping(denied);
    assert.equal(await oauthError(client.pollBackchannelAuthenticationGrant(config, denied.started)), 'access_denied');

    const expired = await ask('Pay 40.00 EUR (ping)', { requested_expiry: '2' });
    assert.equal(expired.started.expires_in <= 2, true);
    await ping(expired);
    assert.equal(await oauthError(client.pollBackchannelAuthenticationGrant(config, { ...expired.started, expires_in: 30 })), 'expired_token');
    assert.equal(endpoint.pending(), 0, 'one notification per request');

    // A ping client must send a notification token.
    assert.equal(await oauthError(client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'bob' })), 'invalid_request');
  } finally {
    await endpoint.close();
  }
});

test('push mode: the tokens themselves arrive at the endpoint, naming the request; denial and expiry as errors', async () => {
  const carol = await cliUser(server, 'carol');
  const endpoint = await notificationEndpoint();
  try {
    const { client_id: clientId, client_secret: secret } = await cliJson(server, ['admin', 'ciba', 'create', appId, '--mode', 'push', '--notification-endpoint', endpoint.url]);
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const ask = async (message, extra = {}) => {
      const token = randomId(24);
      const started = await client.initiateBackchannelAuthentication(config, {
        scope: 'openid', login_hint: 'carol', binding_message: message, client_notification_token: token, ...extra,
      });
      assert.equal(started.interval, undefined, 'push clients do not poll');
      return { started, token };
    };
    const push = async ({ started, token }) => {
      const note = await endpoint.next();
      assert.equal(note.authorization, `Bearer ${token}`);
      assert.equal(note.body.auth_req_id, started.auth_req_id);
      return note.body;
    };

    const approved = await ask('Pay 50.00 EUR (push)');
    await approveOnCli(server, carol.profile, 'Pay 50.00 EUR (push)', approved.started.display_code);
    const body = await push(approved);
    assert.equal(body.token_type, 'Bearer');
    const claims = await verifyTokenResponse(server.issuer, body, { clientId, sub: carol.id });
    assert.equal(claims.id['urn:openid:params:jwt:claim:auth_req_id'], approved.started.auth_req_id);
    assert.equal(claims.id.at_hash, atHash(body.access_token));
    // A push client never fetches tokens at the token endpoint.
    assert.equal(await oauthError(client.pollBackchannelAuthenticationGrant(config, { ...approved.started, interval: 1 })), 'unauthorized_client');

    const denied = await ask('Pay 60.00 EUR (push)');
    await denyOnCli(server, carol.profile, 'Pay 60.00 EUR (push)');
    const refusal = await push(denied);
    assert.equal(refusal.error, 'access_denied');
    assert.equal(refusal.access_token, undefined);
    assert.deepEqual(Object.keys(refusal).sort(), ['auth_req_id', 'error', 'error_description']);

    const expired = await ask('Pay 70.00 EUR (push)', { requested_expiry: '2' });
    const expiry = await push(expired);
    assert.equal(expiry.error, 'expired_token');
    assert.equal(expiry.access_token, undefined);
    assert.equal(endpoint.pending(), 0, 'one notification per request');
    assert.equal(decodeJwt(body.id_token).aud, clientId);
  } finally {
    await endpoint.close();
  }
});
