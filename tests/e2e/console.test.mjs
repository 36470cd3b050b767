// The admin console in real Chromium, against `assent serve` with the command-line authenticator
// as the admins' device: sign-in by push (the number on the page typed on the device), the live
// page showing a request as it is made, an alert with its evidence after a prompt-bombing burst,
// revoking a device, rotating an API key (the old key refused at once), an incident broadcast
// acknowledged by one of its two users, the audit chain check, a form posted without its CSRF
// token refused; screenshots of each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assentBinary, launchBrowser, screenshot } from './support.mjs';

let server;
let browser;
let page;
const dir = mkdtempSync(join(tmpdir(), 'assent-console-'));

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** `assent serve` on a fresh data directory; the console's sign-in push without user
 * verification, which the command-line authenticator cannot give. */
async function startServe() {
  const port = await freePort();
  const data = join(dir, 'data');
  const child = spawn(assentBinary(), ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ASSENT_CONSOLE__USER_VERIFICATION: 'false' },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const url = `http://localhost:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`assent serve exited: ${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok && existsSync(join(data, 'admin.key'))) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminKey = readFileSync(join(data, 'admin.key'), 'utf8').trim();
  return { url, adminKey, stop: () => child.kill('SIGTERM'), output: () => output };
}

async function api(key, method, path, body) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The command-line authenticator, with its own profile per user. */
function device(user, ...args) {
  return execFileSync(assentBinary(), ['device', ...args, '--profile', join(dir, `profile-${user}`)], {
    env: { ...process.env, ASSENT_SERVER: server.url },
  }).toString();
}

async function enroll(user) {
  assert.equal((await api(server.adminKey, 'POST', '/v1/admin/users', { username: user })).status, 201);
  const enrollment = await api(server.adminKey, 'POST', '/v1/admin/enrollments', { user });
  assert.equal(enrollment.status, 201, JSON.stringify(enrollment.body));
  device(user, 'enroll', enrollment.body.link, '--name', `${user}'s laptop`);
}

before(async () => {
  server = await startServe();
  for (const user of ['ops', 'alice', 'bob']) await enroll(user);
  assert.equal((await api(server.adminKey, 'POST', '/v1/admin/groups', { name: 'admins' })).status, 201);
  assert.equal((await api(server.adminKey, 'PUT', '/v1/admin/groups/admins/members/ops')).status, 204);
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('an admin signs in by push, approving on the command-line authenticator', async () => {
  await page.goto(`${server.url}/admin/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username').fill('ops');
  await page.getByRole('button', { name: 'Send a push' }).click();
  await page.getByRole('heading', { name: 'Approve on your device' }).waitFor();
  const code = (await page.locator('#sign-in-code').textContent()).trim();
  await screenshot(page, 'console-sign-in');
  const pending = JSON.parse(device('ops', 'pending', '--json'));
  assert.equal(pending.length, 1);
  assert.equal(pending[0].binding_message, 'Sign in to the Assent console');
  device('ops', 'approve', pending[0].id, '--code', code);
  // The waiting page moves on by itself.
  await page.getByRole('heading', { name: 'Live' }).waitFor({ timeout: 15000 });
  await page.locator('.who').getByText('ops').waitFor();
});

test('the live page shows a request as it is created', async () => {
  const acme = await api(server.adminKey, 'POST', '/v1/admin/apps', { name: 'Acme' });
  assert.equal(acme.status, 201);
  await page.goto(`${server.url}/admin/`);
  await page.locator('#live-status[data-connected="true"]').waitFor({ timeout: 15000 });
  const created = await api(acme.body.api_key, 'POST', '/v1/approvals', {
    user: 'alice', kind: 'login', binding_message: 'Sign in to Acme', context: { ip: '198.51.100.23' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const row = page.locator('#live tbody tr.kind-approval_created', { hasText: 'alice' });
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.textContent(), /Acme/);
  assert.match(await row.textContent(), /prompted/);
  device('alice', 'approve', created.body.id, '--code', created.body.display_code);
  await page.locator('#live tbody tr.kind-approval_decided').filter({ hasText: 'alice' }).filter({ hasText: 'approved' })
    .waitFor({ timeout: 15000 });
  await screenshot(page, 'console-live');
  test.acmeKey = acme.body.api_key;
  test.acmeId = acme.body.app_id;
});

test('a prompt-bombing burst raises an alert with its evidence', async () => {
  let refused;
  for (let i = 0; i < 6 && !refused; i++) {
    const created = await api(test.acmeKey, 'POST', '/v1/approvals', { user: 'bob', kind: 'login' });
    if (created.status === 429) refused = created.body;
  }
  assert.equal(refused?.code, 'push_suspended', 'the burst is stopped');
  await page.goto(`${server.url}/admin/alerts`);
  const alert = page.locator('#alerts tbody tr.kind-push_suspended', { hasText: 'bob' });
  await alert.waitFor();
  assert.match(await alert.locator('td.evidence').textContent(), /prompt_budget · \d+ recent prompts · until/);
  await screenshot(page, 'console-alerts');
});

test('an admin revokes a device from the user page', async () => {
  await page.goto(`${server.url}/admin/users`);
  await page.locator('#users').getByRole('link', { name: 'bob' }).click();
  await page.getByRole('heading', { name: 'User bob' }).waitFor();
  const row = page.locator('#devices tbody tr').first();
  assert.equal((await row.locator('td.state').textContent()).trim(), 'active');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('heading', { name: 'User bob' }).waitFor();
  assert.equal((await page.locator('#devices tbody tr').first().locator('td.state').textContent()).trim(), 'revoked');
  await page.getByText('Push suspended until').waitFor();
  await screenshot(page, 'console-user');
  const devices = await api(server.adminKey, 'GET', '/v1/admin/devices?user=bob');
  assert.equal(devices.body.devices[0].state, 'revoked');
});

test('rotating an API key refuses the old key at once', async () => {
  assert.equal((await api(test.acmeKey, 'GET', '/v1/approvals/none')).status, 404, 'the key works before');
  await page.goto(`${server.url}/admin/apps`);
  const acme = page.locator(`section.app[data-app="${test.acmeId}"]`);
  await acme.getByRole('button', { name: 'Rotate the key' }).click();
  await page.getByRole('heading', { name: 'New API key for Acme' }).waitFor();
  const fresh = (await page.locator('#new-api-key').textContent()).trim();
  await page.locator('#revoked-keys').waitFor();
  const old = await api(test.acmeKey, 'GET', '/v1/approvals/none');
  assert.equal(old.status, 401, 'the old key is refused at once');
  assert.equal((await api(fresh, 'GET', '/v1/approvals/none')).status, 404, 'the new key works');
  await page.goto(`${server.url}/admin/apps`);
  assert.equal(await acme.locator('tr td.state', { hasText: 'revoked' }).count(), 1);
  await screenshot(page, 'console-apps');
});

test('an incident broadcast is acknowledged by one of its two users', async () => {
  assert.equal((await api(server.adminKey, 'POST', '/v1/admin/groups', { name: 'staff' })).status, 201);
  for (const user of ['alice', 'bob']) {
    assert.equal((await api(server.adminKey, 'PUT', `/v1/admin/groups/staff/members/${user}`)).status, 204);
  }
  await page.goto(`${server.url}/admin/incidents`);
  await page.getByLabel('Message').fill('We had a security incident: change your password and review your recent activity.');
  await page.locator('select[name="group"]').selectOption('staff');
  await page.getByRole('button', { name: 'Send to every device' }).click();
  await page.getByRole('heading', { name: 'Broadcast' }).waitFor();
  assert.equal((await page.locator('#ack-count').textContent()).trim(), '0 of 2 acknowledged');
  const listed = JSON.parse(device('alice', 'broadcasts', '--json'));
  assert.equal(listed.pending.length, 1);
  assert.match(listed.pending[0].message, /security incident/);
  device('alice', 'ack', listed.pending[0].id);
  await page.reload();
  assert.equal((await page.locator('#ack-count').textContent()).trim(), '1 of 2 acknowledged');
  assert.equal((await page.locator('#recipients tr[data-user="alice"] td.state').textContent()).trim(), 'acknowledged');
  assert.equal((await page.locator('#recipients tr[data-user="bob"] td.state').textContent()).trim(), 'not yet');
  await page.locator('#recipients tr[data-user="alice"]').getByText("alice's laptop").waitFor();
  await screenshot(page, 'console-incident');
  await page.goto(`${server.url}/admin/incidents`);
  assert.equal((await page.locator('#broadcasts td.count').first().textContent()).trim(), '1 of 2');
});

test('the audit page verifies the chain', async () => {
  await page.goto(`${server.url}/admin/audit?user=bob`);
  await page.locator('#audit-rows tbody tr').first().waitFor();
  await page.getByRole('button', { name: 'Verify the whole chain' }).click();
  const result = page.locator('#chain-result');
  await result.waitFor();
  assert.match(await result.textContent(), /^Intact: \d+ rows checked\.$/);
  await screenshot(page, 'console-audit');
});

test('charts and the policy dry run render', async () => {
  await page.goto(`${server.url}/admin/charts`);
  await page.locator('svg.chart').first().waitFor();
  assert.match(await page.locator('#latency').textContent(), /p50 \d+ ms/);
  await screenshot(page, 'console-charts');
  await page.goto(`${server.url}/admin/policy?app=Acme&user=alice&kind=transaction&amount=5000&ip=198.51.100.23`);
  const result = page.locator('#dry-run-result');
  await result.waitFor();
  assert.match(await result.textContent(), /large transactions need user verification/);
  await screenshot(page, 'console-policy');
});

test('the console is usable on a phone', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const cookies = await page.context().cookies();
  await phone.addCookies(cookies);
  const small = await phone.newPage();
  for (const path of ['/admin/', '/admin/users/bob', '/admin/apps', '/admin/incidents']) {
    await small.goto(`${server.url}${path}`);
    await small.locator('main h1').waitFor();
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${path} is ${overflow}px wider than the phone`);
  }
  await small.goto(`${server.url}/admin/`);
  await screenshot(small, 'console-phone');
  await phone.close();
});

test('a form posted without its CSRF token is refused', async () => {
  // The page's own cookies go with it (same browser context), but not the form's token.
  const keys = await api(server.adminKey, 'GET', '/v1/admin/apps');
  const live = keys.body.apps.find((a) => a.name === 'Acme').keys.find((k) => !k.revoked_at);
  const forged = await page.request.post(`${server.url}/admin/keys/${live.id}/revoke`, {
    form: { note: 'no token' }, headers: { Origin: server.url }, maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /CSRF/);
  const still = await api(server.adminKey, 'GET', '/v1/admin/apps');
  assert.equal(still.body.apps.find((a) => a.name === 'Acme').keys.find((k) => k.id === live.id).revoked_at, undefined);
  // Signing out ends the session.
  await page.goto(`${server.url}/admin/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${server.url}/admin/users`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});
