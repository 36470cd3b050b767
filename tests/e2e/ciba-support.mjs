// Shared harness of the OpenID CIBA tests: starts `assent serve` on a fresh data directory with
// the environment a test needs, runs the `assent` CLI (admin commands and the command-line
// authenticator), receives ping and push notifications on a local HTTP endpoint, and verifies
// Assent's tokens with `jose`, a JOSE implementation Assent shares no code with.
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { assentBinary, root } from './support.mjs';

export const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
export const sha256 = (text) => createHash('sha256').update(text).digest();
export const randomId = (n = 16) => b64u(randomBytes(n));

/** OpenID Connect's at_hash for ES256: the left half of SHA-256 of the access token, base64url. */
export const atHash = (accessToken) => b64u(sha256(accessToken).subarray(0, 16));

/** A TCP port free at the moment of asking. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// The test's environment without its ASSENT_ variables (ASSENT_BIN, ASSENT_TEST_PYTHON): the
// server reads every ASSENT_ variable as configuration and refuses one it does not know.
function outsideEnvironment() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ASSENT_')));
}

/**
 * Starts `assent serve` on 127.0.0.1 with a fresh data directory, its public URL (the issuer)
 * `http://127.0.0.1:PORT`, and `env` on top; resolves once `/health/ready` answers.
 */
export async function startServe(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'assent-ciba-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(assentBinary(), ['serve', '--listen', `127.0.0.1:${port}`, '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...outsideEnvironment(), ASSENT_LOG__LEVEL: 'warn', ASSENT_PUBLIC_URL: issuer, ...env },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`assent serve exited: ${output}`);
    const ready = await fetch(`${issuer}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 300) {
      child.kill('SIGTERM');
      throw new Error(`assent serve did not become ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminKey = readFileSync(join(data, 'admin.key'), 'utf8').trim();
  return { issuer, dir, data, adminKey, stop: () => child.kill('SIGTERM'), output: () => output };
}

/** Runs the `assent` CLI against `server` with its admin key; resolves with standard output. */
export function cli(server, args) {
  return new Promise((resolve, reject) => {
    execFile(assentBinary(), args, {
      env: { ...process.env, ASSENT_SERVER: server.issuer ?? server.assent_url, ASSENT_ADMIN_KEY: server.adminKey ?? server.admin_key },
      timeout: 60000,
    }, (error, stdout, stderr) => {
      if (error) reject(new Error(`assent ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

export async function cliJson(server, args) {
  return JSON.parse(await cli(server, [...args, '--json']));
}

/** Writes a JWK Set file of `publicJwks` in the server's directory; resolves with its path. */
export function jwksFile(server, name, publicJwks) {
  const path = join(server.dir ?? server.data_dir, `${name}.jwks.json`);
  writeFileSync(path, JSON.stringify({ keys: publicJwks }));
  return path;
}

/** Creates `username` and enrolls a command-line authenticator for them. */
export async function cliUser(server, username) {
  const user = await cliJson(server, ['admin', 'user', 'create', username]);
  const { link } = await cliJson(server, ['admin', 'enroll', username]);
  const profile = join(server.dir, `${username}-device`);
  await cli(server, ['device', 'enroll', link, '--profile', profile]);
  return { id: user.id, username, profile };
}

/** Waits until the authenticator at `profile` lists a request with `bindingMessage`. */
export async function pendingRequest(server, profile, bindingMessage) {
  for (let i = 0; i < 100; i++) {
    const pending = await cliJson(server, ['device', 'pending', '--profile', profile]);
    const found = pending.find((a) => a.binding_message === bindingMessage);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no pending request "${bindingMessage}"`);
}

/** Approves on the command-line authenticator, typing the code the client was given to show. */
export async function approveOnCli(server, profile, bindingMessage, code) {
  const request = await pendingRequest(server, profile, bindingMessage);
  const out = await cli(server, ['device', 'approve', request.id, '--code', code, '--profile', profile]);
  if (!out.includes('approved')) throw new Error(`not approved: ${out}`);
  return request;
}

export async function denyOnCli(server, profile, bindingMessage) {
  const request = await pendingRequest(server, profile, bindingMessage);
  const out = await cli(server, ['device', 'deny', request.id, '--profile', profile]);
  if (!out.includes('denied')) throw new Error(`not denied: ${out}`);
  return request;
}

/**
 * A notification endpoint on 127.0.0.1 (CIBA ping and push modes): it records every POST
 * (authorization header and JSON body) and answers 204. `next()` resolves with the next one.
 */
export async function notificationEndpoint() {
  const received = [];
  const waiting = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      let json = null;
      try { json = JSON.parse(body); } catch { /* recorded as null: the test fails on it */ }
      const note = { method: req.method, path: req.url, authorization: req.headers.authorization, contentType: req.headers['content-type'], body: json };
      res.writeHead(204).end();
      const waiter = waiting.shift();
      if (waiter) waiter(note);
      else received.push(note);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/ciba/notify`;
  return {
    url,
    next(timeoutMs = 20000) {
      if (received.length) return Promise.resolve(received.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no notification arrived')), timeoutMs);
        waiting.push((note) => { clearTimeout(timer); resolve(note); });
      });
    },
    pending: () => received.length,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Assent's signing keys, fetched by jose from the issuer's JWKS (jwks_uri). */
export function assentKeys(issuer) {
  return createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
}

/**
 * Verifies a token response as a client must: the ID token and the access token are ES256 JWTs
 * signed by a key of Assent's JWKS, with the issuer, audiences and subject expected, and the ID
 * token's at_hash is that of this access token. Resolves with both claim sets.
 */
export async function verifyTokenResponse(issuer, tokens, { clientId, sub, audience = issuer }) {
  const keys = assentKeys(issuer);
  const id = await jwtVerify(tokens.id_token, keys, { issuer, audience: clientId, algorithms: ['ES256'] });
  const access = await jwtVerify(tokens.access_token, keys, { issuer, audience, algorithms: ['ES256'], typ: 'at+jwt' });
  if (id.payload.sub !== sub) throw new Error(`ID token sub ${id.payload.sub}, expected ${sub}`);
  if (access.payload.sub !== sub) throw new Error(`access token sub ${access.payload.sub}, expected ${sub}`);
  if (access.payload.client_id !== clientId) throw new Error(`access token client_id ${access.payload.client_id}`);
  if (id.payload.at_hash !== atHash(tokens.access_token)) throw new Error('at_hash is not that of the access token');
  return { id: id.payload, idHeader: id.protectedHeader, access: access.payload, accessHeader: access.protectedHeader };
}

/** The Python interpreter holding the interop peers (scripts/test.sh makes .venv). */
export function python() {
  return process.env.ASSENT_TEST_PYTHON || join(root, '.venv', 'bin', 'python');
}
