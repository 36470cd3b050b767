// The web authenticator and Acme in real Chromium: enrollment, live prompts, number matching,
// deny and fraud, a transfer with passkey user verification and tampered details, Web Push
// notifications from the service worker, and the non-extractable device key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, enrolledAuthenticator, acmeSignIn, acmeOutcome, openPrompt, sql, screenshot, assentBinary,
} from './support.mjs';

let demo;
let browser;
let auth; // alice's web authenticator

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  auth = await enrolledAuthenticator(browser, demo.users.alice.enrollment_link);
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

async function home() {
  await auth.page.goto(`${demo.assent_url}/app/`);
  await auth.page.getByRole('heading', { name: 'Requests' }).waitFor();
}

test('1. enroll, sign in to Acme, answer the live prompt with the code, and verify the receipt', async () => {
  const { page } = auth;
  // Enrollment produced an alert and lists this device, with its passkey.
  await page.locator('#alerts').getByText('New device enrolled').waitFor();
  await page.locator('#devices').getByText('this device').waitFor();
  assert.equal(await page.getByText('No passkey on this device').count(), 0);

  const acme = await acmeSignIn(browser, demo);
  assert.match(acme.code, /^\d{6}$/);
  await openPrompt(page, acme.id); // arrives over the live stream: no reload
  assert.match(await page.locator('h1').textContent(), /Sign-in requested by Acme Bank/);
  await page.getByText('Sign in to Acme Bank').waitFor();
  assert.match(await page.locator('#from').textContent(), /127\.0\.0\.1/);
  await page.getByLabel('Code shown on the sign-in screen').fill(acme.code);
  await screenshot(page, 'prompt');
  await page.locator('#approve').click();
  await page.getByRole('heading', { name: 'Approved' }).waitFor();

  const outcome = await acmeOutcome(acme.page);
  assert.equal(outcome.state, 'approved');
  await acme.page.locator('#next').click();
  await acme.page.locator('#signed-in').getByText('Welcome, alice').waitFor();
  await screenshot(acme.page, 'acme-signed-in');
  await acme.page.goto(`${demo.acme_url}/receipt`);
  assert.equal(await acme.page.locator('#verdict').getAttribute('data-valid'), 'true');
  assert.match(await acme.page.locator('#receipt').textContent(), /"state": "approved"/);
  assert.match(await acme.page.locator('#statement').textContent(), new RegExp(`"code": "${acme.code}"`));
  await screenshot(acme.page, 'acme-receipt');
  await acme.context.close();
});

test('2. a wrong code denies on both sides; Deny and "this wasn\'t me" reach Acme', async () => {
  const { page } = auth;
  await home();
  const wrong = await acmeSignIn(browser, demo);
  await openPrompt(page, wrong.id);
  const typo = wrong.code === '000000' ? '111111' : '000000';
  await page.getByLabel('Code shown on the sign-in screen').fill(typo);
  await page.locator('#approve').click();
  await page.getByRole('heading', { name: 'Not approved' }).waitFor();
  await page.getByText('did not match').waitFor();
  const wrongOutcome = await acmeOutcome(wrong.page);
  assert.equal(wrongOutcome.state, 'denied');
  assert.equal(wrongOutcome.reason, 'wrong_code');
  assert.match(wrongOutcome.text, /did not match/);
  await wrong.context.close();

  await home();
  const denied = await acmeSignIn(browser, demo);
  await openPrompt(page, denied.id);
  await page.locator('#deny').click();
  await page.getByText('Denied.').waitFor();
  const deniedOutcome = await acmeOutcome(denied.page);
  assert.equal(deniedOutcome.state, 'denied');
  assert.equal(deniedOutcome.reason, 'denied_by_user');
  await denied.context.close();

  // "This wasn't me" suspends pushes for the reporter, so bob reports on his own authenticator.
  const bob = await enrolledAuthenticator(browser, demo.users.bob.enrollment_link);
  const fraud = await acmeSignIn(browser, demo, 'bob');
  await openPrompt(bob.page, fraud.id);
  await bob.page.locator('#fraud').click();
  await bob.page.getByText('Denied and reported').waitFor();
  const fraudOutcome = await acmeOutcome(fraud.page);
  assert.equal(fraudOutcome.state, 'fraud');
  assert.match(fraudOutcome.text, /Reported as fraud/);
  await screenshot(fraud.page, 'acme-fraud');
  await fraud.context.close();
  // The next attempt is refused before any push, and bob is told why.
  const again = await browser.newContext();
  const retry = await again.newPage();
  await retry.goto(demo.acme_url);
  await retry.getByLabel('Username').fill('bob');
  await retry.getByLabel('Password').fill(demo.users.bob.password);
  await retry.getByRole('button', { name: 'Sign in' }).click();
  await retry.getByText('Approvals are paused for this account').waitFor();
  await bob.page.goto(`${demo.assent_url}/app/`);
  await bob.page.locator('#alerts').getByText('Push requests are paused').waitFor();
  await again.close();
  await bob.context.close();
});

async function signedInAcme() {
  const acme = await acmeSignIn(browser, demo);
  await openPrompt(auth.page, acme.id);
  await auth.page.getByLabel('Code shown on the sign-in screen').fill(acme.code);
  await auth.page.locator('#approve').click();
  await auth.page.getByRole('heading', { name: 'Approved' }).waitFor();
  assert.equal((await acmeOutcome(acme.page)).state, 'approved');
  return acme;
}

async function startTransfer(acme, amount) {
  await acme.page.goto(`${demo.acme_url}/transfer`);
  await acme.page.getByLabel('Amount').fill(amount);
  await acme.page.getByRole('button', { name: 'Send' }).click();
  await acme.page.locator('#code').waitFor();
  return {
    id: await acme.page.locator('#outcome').getAttribute('data-approval'),
    code: (await acme.page.locator('#code').textContent()).trim(),
  };
}

test('3. a transfer shows amount, currency and recipient, needs the passkey, and tampered details fail', async () => {
  const { page, cdp, authenticatorId } = auth;
  await home();
  const acme = await signedInAcme();
  await home();
  const transfer = await startTransfer(acme, '250.00');
  await openPrompt(page, transfer.id);
  assert.equal((await page.locator('[data-field="amount"]').textContent()).trim(), '250.00 EUR');
  assert.equal(await page.locator('[data-field="creditor_name"]').textContent(), 'Bob Martin');
  await page.getByText('FR76 3000 6000 0112 3456 7890 189').waitFor();
  await page.getByText('Approving needs your passkey').waitFor();
  await page.getByLabel('Code shown on the sign-in screen').fill(transfer.code);
  await screenshot(page, 'transfer-prompt');
  const { credentials: before } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  await page.locator('#approve').click();
  await page.getByRole('heading', { name: 'Approved' }).waitFor();
  const { credentials: afterUse } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(afterUse[0].signCount > before[0].signCount, 'the passkey signed the approval');
  const outcome = await acmeOutcome(acme.page);
  assert.equal(outcome.state, 'approved');
  await acme.page.goto(`${demo.acme_url}/receipt`);
  assert.equal(await acme.page.locator('#verdict').getAttribute('data-valid'), 'true');
  assert.match(await acme.page.locator('#receipt').textContent(), /"user_verification"/);

  // The user sees 10.00; someone with database access raises it before the answer arrives.
  await home();
  const tampered = await startTransfer(acme, '10.00');
  await openPrompt(page, tampered.id);
  assert.equal((await page.locator('[data-field="amount"]').textContent()).trim(), '10.00 EUR');
  const changed = sql(demo.database,
    "UPDATE approvals SET authorization_details = replace(authorization_details, '\"10.00\"', '\"9999.00\"') WHERE id = ?", tampered.id);
  assert.equal(changed, 1);
  await page.getByLabel('Code shown on the sign-in screen').fill(tampered.code);
  await page.locator('#approve').click();
  await page.getByText('does not match the request').waitFor();
  assert.equal(await acme.page.locator('#outcome').getAttribute('data-state'), 'pending');
  await acme.context.close();
});

test('4. a delivered push shows a notification whose click opens the prompt', async () => {
  const { page, context } = auth;
  // What the user's click on "Turn on notifications" grants.
  await context.grantPermissions(['notifications'], { origin: demo.assent_url });
  await home();
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  const acme = await acmeSignIn(browser, demo);
  const cdp = await context.newCDPSession(page);
  const registration = new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r) => r.scopeURL === `${demo.assent_url}/app/` && !r.isDeleted);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const registrationId = await registration;
  // What the push service delivers: only the request id, never its details.
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: demo.assent_url, registrationId, data: JSON.stringify({ type: 'approval', id: acme.id }),
  });
  let notification = null;
  for (let i = 0; i < 100 && !notification; i++) {
    notification = await page.evaluate(async (id) => {
      const reg = await navigator.serviceWorker.ready;
      const n = (await reg.getNotifications()).find((x) => x.data && x.data.id === id);
      return n ? { title: n.title, body: n.body } : null;
    }, acme.id);
    if (!notification) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(notification, 'the service worker showed a notification');
  assert.equal(notification.title, 'Assent: approval requested');
  assert.doesNotMatch(notification.body, /Acme|127\.0\.0\.1/, 'no request details in the notification');

  const [worker] = context.serviceWorkers().filter((w) => w.url().endsWith('/app/sw.js'));
  assert.ok(worker, 'the service worker runs');
  await worker.evaluate(async (id) => {
    const list = await self.registration.getNotifications();
    const n = list.find((x) => x.data && x.data.id === id);
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
  }, acme.id);
  await page.waitForURL(new RegExp(`#/approval/${acme.id}$`));
  await page.locator('#approve').waitFor();
  assert.match(await page.locator('h1').textContent(), /Sign-in requested by Acme Bank/);
  await acme.context.close();
});

test('5. the device private key cannot be exported', async () => {
  const result = await auth.page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('assent');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const record = await new Promise((resolve) => {
      const req = db.transaction('device').objectStore('device').get('self');
      req.onsuccess = () => resolve(req.result);
    });
    const attempts = {};
    for (const format of ['pkcs8', 'jwk']) {
      try {
        await crypto.subtle.exportKey(format, record.privateKey);
        attempts[format] = 'exported';
      } catch (e) {
        attempts[format] = e.name;
      }
    }
    return { extractable: record.privateKey.extractable, type: record.privateKey.type, attempts };
  });
  assert.equal(result.type, 'private');
  assert.equal(result.extractable, false);
  assert.deepEqual(result.attempts, { pkcs8: 'InvalidAccessError', jwk: 'InvalidAccessError' });
});

test('5b. "This wasn\'t me" on a new-device alert revokes that device', async () => {
  const { page } = auth;
  // Someone enrolls another device for alice (here: the command-line authenticator).
  const res = await fetch(`${demo.assent_url}/v1/admin/enrollments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${demo.admin_key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: 'alice' }),
  });
  const { link } = await res.json();
  const profile = mkdtempSync(join(tmpdir(), 'assent-intruder-'));
  execFileSync(assentBinary(), ['device', 'enroll', link, '--profile', join(profile, 'p'), '--name', 'Unknown laptop']);
  await home();
  const button = page.locator('li[data-alert="device_enrolled"]', { hasText: 'Unknown laptop' }).locator('button[data-wasnt-me]');
  await button.waitFor();
  await button.click();
  await page.locator('#devices li', { hasText: 'Unknown laptop' }).getByText('revoked').waitFor();
  assert.throws(() => execFileSync(assentBinary(), ['device', 'pending', '--profile', join(profile, 'p')], { stdio: 'pipe' }));
});

test('6. with the server gone, the authenticator still loads and says the server is unreachable', async () => {
  const { page } = auth;
  await home();
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  demo.stop();
  await new Promise((r) => setTimeout(r, 500));
  await page.reload();
  await page.getByText('The Assent server cannot be reached').waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Try again' }).waitFor();
});
