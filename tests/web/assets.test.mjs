// The web authenticator's modules are all served and all cached: every file under web/app/js is
// routed by crates/assent-server/src/http/web.rs and listed in the service worker's offline
// shell (web/app/sw.js), and every import names something one of them exports. A module missing
// from either list loads nowhere, or not offline. Run with `node --test tests/web/`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';

const app = new URL('../../web/app/', import.meta.url);
const read = (url) => readFileSync(url, 'utf8');

// Paths under web/app/ of the entry and of every module in js/.
const modules = ['app.js', ...readdirSync(new URL('js/', app), { recursive: true })
  .filter((name) => name.endsWith('.js')).map((name) => `js/${name.split('\\').join('/')}`)].sort();

test('web.rs serves every module at its path under /app/', () => {
  const webRs = read(new URL('../../crates/assent-server/src/http/web.rs', import.meta.url));
  const served = [...webRs.matchAll(/script!\("([^"]+)"\)/g)].map((m) => m[1]).sort();
  assert.deepEqual(served, modules);
});

test('the service worker keeps every module for offline use', () => {
  const shell = read(new URL('sw.js', app)).match(/const SHELL = \[([\s\S]*?)\];/);
  assert.ok(shell, 'sw.js has a SHELL list');
  const cached = [...shell[1].matchAll(/'\/app\/([^']+\.js)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(cached, modules);
});

test('every import is a relative path to a served module, and every module says what it owns', () => {
  for (const path of modules) {
    const source = read(new URL(path, app));
    assert.match(source.split('\n')[0], /^\/\/ \S/, `${path} opens with a comment`);
    const imports = source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm);
    for (const specifier of [...imports].map((m) => m[1] ?? m[2])) {
      assert.match(specifier, /^\.\.?\//, `${path} imports ${specifier}: only our own modules`);
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      assert.ok(modules.includes(target), `${path} imports ${specifier}, which is not a module here`);
    }
  }
});

test('every imported name is exported by its module', async () => {
  // Importing a module links it with everything it imports, which fails on a name that is not
  // exported. The modules under js/ only define things when loaded, so Node can load them all;
  // the entry starts the page when loaded, so its imports are checked against the exports.
  for (const path of modules.filter((p) => p !== 'app.js')) await import(new URL(path, app));
  const entry = read(new URL('app.js', app));
  for (const [, names, specifier] of entry.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'([^']+)'/gm)) {
    const exported = await import(new URL(specifier, app));
    for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
      assert.ok(name in exported, `app.js imports ${name} from ${specifier}, which does not export it`);
    }
  }
});
