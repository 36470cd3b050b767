// The web authenticator and Acme in real Chromium: enrollment, live prompts, number matching,
// deny and fraud, a transfer with passkey user verification and tampered details, Web Push
// notifications from the service worker, the non-extractable device key, trusted registration
// of a second device, and recovery codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startDemo, launchBrowser, enrolledAuthenticator, authenticatorContext, acmeSignIn, acmeOutcome, openPrompt, sql, screenshot,
  assentBinary, callApi,
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

// A relying party of its own (Acme's key stays inside the demo), created once.
let rpKey;
async function relyingPartyKey() {
  if (!rpKey) {
    const created = await callApi(demo, demo.admin_key, 'POST', '/v1/admin/apps', { name: 'Example Shop' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    rpKey = created.body.api_key;
  }
  return rpKey;
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
    origin: demo.assent_url, registrationId, data: JSON.stringify({ type: 'approval', id: acme.id, app: 'Acme Bank' }),
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

/** The relying party enrolls another device for alice; it opens the link and waits for approval. */
async function heldDevice() {
  const enrollment = await callApi(demo, await relyingPartyKey(), 'POST', '/v1/enrollments', { user: 'alice' });
  assert.equal(enrollment.status, 201, JSON.stringify(enrollment.body));
  assert.equal(enrollment.body.activation, 'device_approval');
  const held = await authenticatorContext(browser);
  await held.page.goto(enrollment.body.link);
  await held.page.getByRole('heading', { name: 'Approve this device from one of your other devices' }).waitFor({ timeout: 30000 });
  held.code = (await held.page.locator('#activation-code').textContent()).trim();
  assert.match(held.code, /^\d{6}$/);
  held.id = await held.page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('assent');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const get = req.result.transaction('device').objectStore('device').get('self');
      get.onsuccess = () => resolve(get.result.device_id);
    };
  }));
  return held;
}

test('6. trusted registration: a new device waits until an enrolled device approves it with its code', async () => {
  const { page } = auth;
  await home();
  const phone = await heldDevice();
  // Held: it can answer nothing, and a reload shows the same code again.
  await phone.page.reload();
  await phone.page.getByRole('heading', { name: 'Approve this device from one of your other devices' }).waitFor();
  assert.equal((await phone.page.locator('#activation-code').textContent()).trim(), phone.code);
  await screenshot(phone.page, 'activation-pending');

  // The enrolled device hears of it live, and its alert leads to the waiting device.
  const review = page.locator(`li[data-alert="device_activation_requested"] button[data-review="${phone.id}"]`);
  await review.waitFor({ timeout: 15000 });
  await review.click();
  const item = page.locator(`#devices li[data-device="${phone.id}"]`);
  assert.equal(await item.getAttribute('data-state'), 'pending_activation');
  await item.getByText('Waiting for approval').waitFor();
  const input = item.getByLabel('Code shown on the new device');
  assert.equal(await input.evaluate((node) => node === document.activeElement), true, 'the alert focuses the code field');
  await input.fill(phone.code);
  await screenshot(page, 'activation-approve');
  await item.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#flash').getByText('is approved').waitFor();
  await page.locator(`#devices li[data-device="${phone.id}"][data-state="active"]`).waitFor();

  // The new device moves on by itself, registers its passkey, and lists its devices.
  await phone.page.getByRole('heading', { name: 'Requests' }).waitFor({ timeout: 15000 });
  await phone.page.getByText('This device is now active').waitFor();
  assert.equal(await phone.page.getByText('No passkey on this device').count(), 0);
  const mine = phone.page.locator(`#devices li[data-device="${phone.id}"]`);
  await mine.getByText('this device').waitFor();
  assert.match(await mine.locator('[data-field="last-seen"]').textContent(), /last seen/);
  assert.match(await mine.locator('[data-field="channel"]').textContent(), /live updates|Web Push/);
  await screenshot(phone.page, 'activation-active');

  // A second held device is denied: its page says so and forgets it.
  const tablet = await heldDevice();
  const denyButton = page.locator(`#devices li[data-device="${tablet.id}"] button[data-deny-device]`);
  await denyButton.waitFor({ timeout: 15000 });
  await denyButton.click();
  await page.locator('#flash').getByText('was denied and removed').waitFor();
  await tablet.page.getByText('This device was not approved and has been removed').waitFor({ timeout: 15000 });
  await screenshot(tablet.page, 'activation-removed');
  await tablet.page.reload();
  await tablet.page.getByRole('heading', { name: 'Enroll this browser' }).waitFor();

  // A third one with a mistyped code is removed too, and the approving device says why.
  const laptop = await heldDevice();
  const laptopItem = page.locator(`#devices li[data-device="${laptop.id}"]`);
  await laptopItem.getByLabel('Code shown on the new device').fill(laptop.code === '000000' ? '111111' : '000000');
  await laptopItem.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#flash').getByText('The code did not match; that device was removed.').waitFor();
  await laptop.page.getByText('This device was not approved and has been removed').waitFor({ timeout: 15000 });
  assert.equal(await page.locator(`#devices li[data-device="${laptop.id}"]`).count(), 0);

  await Promise.all([phone.context.close(), tablet.context.close(), laptop.context.close()]);
});

test('7. recovery codes: generated once on the device, counted, and used up by the relying party', async () => {
  const { page, context } = auth;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: demo.assent_url });
  await home();
  let question = null;
  page.once('dialog', (dialog) => { question = dialog.message(); dialog.accept(); });
  await page.locator('#generate-recovery').click();
  await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
  assert.match(question, /stop working/);
  const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const code of codes) assert.match(code, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
  assert.equal(new Set(codes).size, 10);
  await page.getByText('shown only this once').waitFor();
  await page.locator('#copy-codes').click();
  await page.getByText('Recovery codes copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join('\n'));
  await screenshot(page, 'recovery-codes');
  // Live updates (the alert about the new codes) leave them on screen.
  await new Promise((r) => setTimeout(r, 1500));
  await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
  await page.locator('#codes-done').click();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  assert.equal(await page.locator('#recovery-remaining').getAttribute('data-remaining'), '10');

  // The relying party checks one where the user signs in without a device.
  const verified = await callApi(demo, await relyingPartyKey(), 'POST', '/v1/verify/recovery-code', { user: 'alice', code: codes[0] });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  assert.equal(verified.body.valid, true);
  assert.equal(verified.body.remaining, 9);
  const reused = await callApi(demo, await relyingPartyKey(), 'POST', '/v1/verify/recovery-code', { user: 'alice', code: codes[0] });
  assert.notEqual(reused.status, 200);
  await page.reload();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  assert.equal(await page.locator('#recovery-remaining').getAttribute('data-remaining'), '9');
  await page.getByText('9 unused recovery codes left.').waitFor();

  // Declining the confirmation changes nothing.
  page.once('dialog', (dialog) => dialog.dismiss());
  await page.locator('#generate-recovery').click();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  assert.equal(await page.locator('#recovery-remaining').getAttribute('data-remaining'), '9');
});

test('8. with the server gone, the authenticator still loads and says the server is unreachable', async () => {
  const { page } = auth;
  await home();
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  demo.stop();
  await new Promise((r) => setTimeout(r, 500));
  await page.reload();
  await page.getByText('The Assent server cannot be reached').waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Try again' }).waitFor();
});
