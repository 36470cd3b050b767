// Assent web authenticator: the entry point, which wires the page's events and starts up. The
// device key is a non-extractable WebCrypto P-256 key kept in IndexedDB; every request to the
// server carries a fresh proof signed with it, and every answer is a statement signed with it,
// exactly as docs/protocol.md describes and the CLI does. The modules it loads are in js/.
import { DEVICE_REVOKED } from './js/api.js';
import { loadDevice } from './js/keystore.js';
import { enter } from './js/router.js';
import { state } from './js/state.js';
import { el, notice, show, status } from './js/ui.js';
import { renderEnroll, runEnroll } from './js/views/enroll.js';
import { onVisibilityChange } from './js/views/pending.js';
import { openApproval } from './js/views/prompt.js';
import { showRevoked } from './js/views/revoked.js';

async function start() {
  if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) {
    show(el('h1', { text: 'Assent' }), notice('bad', 'This browser cannot hold a device key here: Assent needs a secure context (https), WebCrypto and IndexedDB.'));
    return;
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((e) => console.warn('service worker', e));
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'open' && e.data.id && state.device) openApproval(e.data.id);
    });
  }
  state.device = await loadDevice();
  const enrolling = location.pathname.endsWith('/app/enroll');
  if (!state.device) {
    if (enrolling && location.hash.includes('code=')) await runEnroll(location.href);
    else renderEnroll();
    return;
  }
  if (enrolling) {
    history.replaceState(null, '', '/app/');
    status('This browser is already enrolled.');
  }
  await enter();
}

document.addEventListener(DEVICE_REVOKED, showRevoked);
document.addEventListener('visibilitychange', onVisibilityChange);
start();
