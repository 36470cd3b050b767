// Shared harness of the browser tests: starts `assent demo` (Assent + Acme Bank on fresh ports
// and a fresh database) and Debian's Chromium through playwright-core. Never downloads a browser.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const artifacts = join(here, 'artifacts');

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export function assentBinary() {
  const path = process.env.ASSENT_BIN || join(root, 'target', 'debug', 'assent');
  if (!existsSync(path)) throw new Error(`no assent binary at ${path}: build it first (cargo build -p assent)`);
  return path;
}

/** Starts the demo and resolves with its info file once it is ready. */
export async function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-'));
  const info = join(dir, 'info.json');
  const child = spawn(assentBinary(), ['demo', '--listen', '127.0.0.1:0', '--acme-listen', '127.0.0.1:0',
    '--data', join(dir, 'data'), '--info-file', info], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  for (let i = 0; i < 300 && !existsSync(info); i++) {
    if (child.exitCode !== null) throw new Error(`assent demo exited: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!existsSync(info)) throw new Error(`assent demo did not start: ${output}`);
  const demo = JSON.parse(readFileSync(info, 'utf8'));
  demo.stop = () => child.kill('SIGTERM');
  demo.output = () => output;
  return demo;
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: run ./scripts/test.sh (it installs Debian's chromium)`);
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
}

/**
 * A browser context holding an enrolled web authenticator, with a virtual WebAuthn
 * authenticator (internal transport, user verification) attached before enrollment.
 */
export async function enrolledAuthenticator(browser, link) {
  const auth = await authenticatorContext(browser);
  await auth.page.goto(link);
  await auth.page.getByRole('heading', { name: 'Requests' }).waitFor({ timeout: 30000 });
  return auth;
}

/** A fresh phone-sized browser context with a virtual WebAuthn authenticator, not enrolled yet. */
export async function authenticatorContext(browser) {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true,
  } });
  return { context, page, cdp, authenticatorId };
}

/** Calls the Assent HTTP API with a bearer key; resolves with the status and the JSON body. */
export async function callApi(demo, key, method, path, body) {
  const res = await fetch(`${demo.assent_url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Signs in to Acme with a password in a fresh context; resolves at the code page. */
export async function acmeSignIn(browser, demo, user = 'alice') {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  await page.goto(demo.acme_url);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(demo.users[user].password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#code').waitFor();
  const id = await page.locator('#outcome').getAttribute('data-approval');
  const code = (await page.locator('#code').textContent()).trim();
  return { context, page, id, code };
}

/** Waits for Acme's outcome element to leave `pending`; resolves with its state and reason. */
export async function acmeOutcome(page) {
  const outcome = page.locator('#outcome:not([data-state="pending"])');
  await outcome.waitFor({ timeout: 30000 });
  return { state: await outcome.getAttribute('data-state'), reason: await outcome.getAttribute('data-reason'), text: await outcome.textContent() };
}

/** Opens the prompt of request `id` from the live list (it must arrive without a reload). */
export async function openPrompt(page, id) {
  const item = page.locator(`button[data-approval="${id}"]`);
  await item.waitFor({ timeout: 15000 });
  await item.click();
  await page.locator('#approve').waitFor();
}

/** Runs SQL on the demo's SQLite file (WAL mode allows it while the server runs). */
export function sql(database, statement, ...params) {
  const script = 'import sqlite3, sys, json\n'
    + 'db = sqlite3.connect(sys.argv[1]); cur = db.execute(sys.argv[2], json.loads(sys.argv[3])); db.commit()\n'
    + 'print(cur.rowcount)';
  return Number(execFileSync('python3', ['-c', script, database, statement, JSON.stringify(params)]).toString().trim());
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
