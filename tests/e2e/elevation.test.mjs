// Acme's admin elevation in real Chromium: alice asks for the console administrator role; the
// demo admins carol and dave, each in browser contexts of their own, see the request at Acme
// with their own code, answer on their web authenticators (with the passkey), and see each
// other's progress; the second approval grants it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDemo, launchBrowser, enrolledAuthenticator, acmeSignIn, acmeOutcome, openPrompt, screenshot,
} from './support.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

/** Back to the authenticator's list of requests. */
async function home(page) {
  await page.goto(`${demo.assent_url}/app/`);
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
}

/** `user` with an enrolled web authenticator, signed in to Acme by push. */
async function signedIn(user) {
  const auth = await enrolledAuthenticator(browser, demo.users[user].enrollment_link);
  const acme = await acmeSignIn(browser, demo, user);
  await openPrompt(auth.page, acme.id);
  await auth.page.getByLabel('Code shown on the sign-in screen').fill(acme.code);
  await auth.page.locator('#approve').click();
  await auth.page.getByRole('heading', { name: 'Approved' }).waitFor();
  assert.equal((await acmeOutcome(acme.page)).state, 'approved');
  await acme.page.goto(demo.acme_url);
  await acme.page.locator('#signed-in').waitFor();
  await home(auth.page);
  return { auth, acme };
}

/** The approver opens the request at Acme, reads their code, and approves on their authenticator. */
async function approve(approver, id, { before: check, shot } = {}) {
  const { acme, auth } = approver;
  await acme.page.goto(`${demo.acme_url}/elevations`);
  await acme.page.locator(`a[data-elevation="${id}"]`).click();
  const code = acme.page.locator('#code');
  await code.waitFor();
  const approval = await code.getAttribute('data-approval');
  const digits = (await code.textContent()).trim();
  if (shot) await screenshot(acme.page, shot);
  await openPrompt(auth.page, approval);
  if (check) await check(auth.page);
  await auth.page.getByLabel('Code shown with the request').fill(digits);
  await auth.page.locator('#approve').click();
  await auth.page.getByRole('heading', { name: 'Approved' }).waitFor();
}

test('an admin elevation needs two approvers, who see each other\'s progress', async () => {
  const alice = await signedIn('alice');
  const carol = await signedIn('carol');
  const dave = await signedIn('dave');

  await alice.acme.page.locator('a', { hasText: 'Request admin access' }).click();
  await alice.acme.page.getByRole('button', { name: 'Ask the admins' }).click();
  const elevation = alice.acme.page.locator('#elevation');
  await elevation.waitFor();
  const id = await elevation.getAttribute('data-id');
  assert.equal(await elevation.getAttribute('data-state'), 'pending');
  assert.equal(await alice.acme.page.locator('#code').count(), 0, 'the requester gets no code');
  const approvers = await alice.acme.page.locator('#approvers li').evaluateAll((items) => items.map((i) => i.dataset.approver));
  assert.deepEqual(approvers, ['carol', 'dave'], 'alice is never one of her own approvers');

  await approve(carol, id, {
    before: async (page) => {
      assert.match(await page.locator('h1').textContent(), /alice asks for access through Acme Bank/);
      await page.getByText('INC-4711: payments are stuck').first().waitFor();
      await page.getByText('Acme console administrator').waitFor();
      assert.match(await page.locator('#access-progress').textContent(), /Approvals: 0 of 2 needed/);
      assert.match(await page.locator('#approved-by').textContent(), /No one has approved yet/);
    },
  });
  // carol's page at Acme follows: she has approved, one more is needed.
  await carol.acme.page.locator('li[data-approver="carol"][data-state="approved"]').waitFor({ timeout: 15000 });
  assert.equal(await carol.acme.page.locator('#code').count(), 0, 'no code once answered');

  await approve(dave, id, {
    shot: 'elevation-approver',
    before: async (page) => {
      // dave sees carol's approval beside his prompt.
      assert.match(await page.locator('#access-progress').textContent(), /Approvals: 1 of 2 needed/);
      assert.match(await page.locator('#approved-by').textContent(), /Approved by carol/);
      assert.match(await page.locator('#from').textContent(), /127\.0\.0\.1/, 'where alice asked from');
      await screenshot(page, 'elevation-prompt');
    },
  });

  // alice's page follows by itself to the grant.
  const granted = alice.acme.page.locator('#granted');
  await granted.waitFor({ timeout: 15000 });
  assert.match(await granted.textContent(), /approved by carol and dave/);
  assert.equal(await alice.acme.page.locator('#elevation').getAttribute('data-state'), 'granted');
  await screenshot(alice.acme.page, 'elevation-granted');
  // carol's page too.
  await carol.acme.page.locator('#elevation[data-state="granted"]').waitFor({ timeout: 15000 });

  // Someone else (bob) cannot see the request at Acme.
  const bob = await signedIn('bob');
  const hidden = await bob.acme.page.goto(`${demo.acme_url}/elevation/${id}`);
  assert.equal(hidden.status(), 404);
  for (const who of [alice, carol, dave, bob]) {
    await who.auth.context.close();
    await who.acme.context.close();
  }
});
