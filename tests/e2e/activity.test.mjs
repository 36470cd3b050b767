// The account's recent activity in the web authenticator, in real Chromium: a sign-in carol
// approved and one she denied are listed with their application, message and address, newest
// first; "This wasn't me" on the approval reports it, and the next request for carol is refused
// before any push.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, enrolledAuthenticator, callApi, openPrompt, screenshot } from './support.mjs';

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

test('the activity lists what ended and "This wasn\'t me" reports an approval', async () => {
  const { page } = carol;
  const shop = await callApi(demo, demo.admin_key, 'POST', '/v1/admin/apps', { name: 'Example Shop' });
  assert.equal(shop.status, 201, JSON.stringify(shop.body));
  const key = shop.body.api_key;
  const ask = async (message, ip) => {
    const created = await callApi(demo, key, 'POST', '/v1/approvals', {
      user: 'carol', kind: 'login', binding_message: message, context: { ip, geo: { city: 'Lyon', country: 'FR' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };

  await page.goto(`${demo.assent_url}/app/`);
  const approved = await ask('Sign in to Example Shop', '198.51.100.23');
  await openPrompt(page, approved.id);
  await page.getByLabel('Code shown on the sign-in screen').fill(approved.display_code);
  await page.locator('#approve').click();
  await page.getByRole('heading', { name: 'Approved' }).waitFor();

  await page.goto(`${demo.assent_url}/app/`);
  const denied = await ask('Sign in to Example Shop again', '198.51.100.24');
  await openPrompt(page, denied.id);
  await page.locator('#deny').click();
  await page.getByText('Denied.').waitFor();

  await page.goto(`${demo.assent_url}/app/`);
  const items = page.locator('#activity li');
  await items.first().waitFor();
  assert.equal(await items.first().getAttribute('data-activity'), denied.id, 'newest first');
  const mine = page.locator(`#activity li[data-activity="${approved.id}"]`);
  await mine.getByText('Approved: Sign-in · Example Shop').waitFor();
  await mine.getByText('Sign in to Example Shop', { exact: true }).waitFor();
  await mine.getByText(/from 198\.51\.100\.23 \(Lyon, FR\)/).waitFor();
  assert.equal(await page.locator(`#activity li[data-activity="${denied.id}"] button[data-report]`).count(), 0,
    'a denial let nothing through: nothing to report');
  await screenshot(page, 'activity');

  page.once('dialog', (dialog) => dialog.accept());
  await mine.locator('button[data-report]').click();
  await page.locator('#flash').getByText('Reported. Push requests are paused').waitFor();

  // The next request for carol is refused before any push.
  const refused = await callApi(demo, key, 'POST', '/v1/approvals', { user: 'carol', kind: 'login' });
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'push_suspended');
});
