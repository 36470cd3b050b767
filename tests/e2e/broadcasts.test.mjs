// Incident broadcasts in the web authenticator, in real Chromium: a notice an admin sends to every
// user, then one to carol's group, appear in carol's authenticator without a reload; the first is
// shown exactly as sent (text, never markup); she acknowledges it with a statement signed by the
// device key, and the admin's view shows her acknowledgement with her device while the others
// have not acknowledged; a notice acknowledged in another tab cannot be acknowledged again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startDemo, launchBrowser, enrolledAuthenticator, callApi, screenshot } from './support.mjs';

let demo;
let browser;
let carol;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  carol = await enrolledAuthenticator(browser, demo.users.carol.enrollment_link);
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const hashOf = (message) => createHash('sha256').update(message, 'utf8').digest('base64url');

// This browser's device id, from its record in IndexedDB.
function deviceId(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('assent', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('device').objectStore('device').get('self');
      get.onsuccess = () => resolve(get.result.device_id);
      get.onerror = () => reject(get.error);
    };
  }));
}

async function send(body) {
  const sent = await callApi(demo, demo.admin_key, 'POST', '/v1/admin/broadcasts', body);
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  return sent.body;
}

test('a notice arrives live, carol acknowledges it on this device and the admin sees it', async () => {
  const { page, context } = carol;
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  assert.equal(await page.locator('#broadcast-banner').count(), 0, 'no notice yet');
  // Set on this page only: still there later means the page was never reloaded.
  await page.evaluate(() => { window.assentNoReload = true; });

  // Markup in a notice is text: `<security@acme.example>` would be an element, and vanish.
  const message = 'We had a breach.\nChange your password and review your recent activity.\nQuestions: <security@acme.example> & the #incident channel.';
  const everyone = await send({ message, everyone: true });
  assert.equal(everyone.recipients, Object.keys(demo.users).length, 'every demo user');

  // The home view says so at its top, without a reload, and leads to the notice.
  const banner = page.locator('#broadcast-banner');
  await banner.getByText('Your administrators sent a notice you must acknowledge').waitFor({ timeout: 15000 });
  await page.locator('#alerts li[data-alert="broadcast"]').getByText('Notice from your administrators').waitFor();
  await screenshot(page, 'broadcast-banner');
  await banner.locator('#open-notices').click();
  await page.getByRole('heading', { name: 'Notices from your administrators' }).waitFor();
  const first = page.locator(`#broadcasts-pending li[data-broadcast="${everyone.id}"]`);
  assert.equal(await first.locator('.broadcast-message').textContent(), message, 'the message in full, exactly as sent');
  assert.equal(await first.locator('.broadcast-message').evaluate((p) => p.childElementCount), 0, 'shown as text, never as markup');

  // A second notice, to carol's group, appears in the open view.
  const group = await send({ message: 'Acme admins: rotate the API keys you hold before tonight.', group: 'acme-admins' });
  assert.equal(group.recipients, 2, 'carol and dave');
  const second = page.locator(`#broadcasts-pending li[data-broadcast="${group.id}"]`);
  await second.waitFor({ timeout: 15000 });

  // Acknowledging signs and sends; the notice moves to the acknowledged list, without a button.
  await first.locator(`button[data-ack="${everyone.id}"]`).click();
  await page.locator('#ack-result').getByText(/^Acknowledged at /).waitFor();
  const acknowledged = page.locator(`#broadcasts-acknowledged li[data-broadcast="${everyone.id}"]`);
  await acknowledged.getByText('Acknowledged', { exact: true }).waitFor();
  assert.equal(await page.locator(`button[data-ack="${everyone.id}"]`).count(), 0, 'no second acknowledgement');
  assert.equal(await page.locator(`#broadcasts-pending li[data-broadcast="${everyone.id}"]`).count(), 0);
  await second.locator(`button[data-ack="${group.id}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.assentNoReload), true, 'never reloaded');
  await screenshot(page, 'broadcast');

  // The admin's view: carol acknowledged on this device, with its signed statement; the others not.
  const device = await deviceId(page);
  const detail = await callApi(demo, demo.admin_key, 'GET', `/v1/admin/broadcasts/${everyone.id}`);
  assert.equal(detail.status, 200, JSON.stringify(detail.body));
  assert.equal(detail.body.broadcast.acknowledged, 1);
  assert.equal(detail.body.broadcast.message, message);
  const byUser = Object.fromEntries(detail.body.recipients.map((r) => [r.user, r]));
  assert.deepEqual(Object.keys(byUser).sort(), Object.keys(demo.users).sort());
  const mine = byUser.carol;
  assert.equal(mine.acknowledged, true);
  assert.equal(mine.device_id, device);
  assert.ok(mine.device_name, 'the device is named');
  assert.ok(mine.acknowledged_at);
  const [header, payload] = mine.statement.split('.');
  assert.deepEqual(decodePart(header), { alg: 'ES256', typ: 'assent-broadcast-ack+jws', kid: device });
  const claims = decodePart(payload);
  assert.deepEqual(Object.keys(claims), ['broadcast_id', 'user', 'message_hash', 'iat']);
  assert.equal(claims.broadcast_id, everyone.id);
  assert.equal(claims.user, 'carol');
  assert.equal(claims.message_hash, hashOf(message));
  for (const user of ['alice', 'bob', 'dave']) {
    assert.equal(byUser[user].acknowledged, false, `${user} has not acknowledged`);
    assert.equal(byUser[user].device_id, undefined);
  }

  // The group's notice is open in a second tab too; acknowledged in the first, the second tab's
  // attempt is refused and says so, and the notice is no longer one to acknowledge there either.
  const other = await context.newPage();
  await other.goto(`${demo.assent_url}/app/#/notices`);
  const stale = other.locator(`#broadcasts-pending li[data-broadcast="${group.id}"]`);
  await stale.waitFor({ timeout: 15000 });
  // Its stream announces the waiting notices when it connects; they are already listed.
  await other.waitForTimeout(1500);
  await second.locator(`button[data-ack="${group.id}"]`).click();
  await page.locator(`#broadcasts-acknowledged li[data-broadcast="${group.id}"]`).waitFor();
  await page.locator('#broadcasts-empty').getByText('No notice waits for your acknowledgement.').waitFor();
  await stale.locator(`button[data-ack="${group.id}"]`).click();
  await other.locator('#ack-result').getByText('This notice was already acknowledged').waitFor();
  await other.locator(`#broadcasts-acknowledged li[data-broadcast="${group.id}"]`).waitFor();
  assert.equal(await other.locator('button[data-ack]').count(), 0, 'nothing left to acknowledge');
  const groupDetail = await callApi(demo, demo.admin_key, 'GET', `/v1/admin/broadcasts/${group.id}`);
  assert.equal(groupDetail.body.broadcast.acknowledged, 1, 'acknowledged once');
  await other.close();

  // Back home, the banner is gone.
  await page.getByRole('button', { name: 'Back to requests' }).click();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  await page.locator('#pending-empty').waitFor();
  assert.equal(await page.locator('#broadcast-banner').count(), 0, 'nothing left to acknowledge');
});
