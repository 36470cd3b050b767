// Owns navigation once a device is enrolled: a held device waits for activation; an active one
// listens for live updates and shows the view the fragment names (`#/approval/<id>`, the notices
// `#/notices`, or home).
import { runStream } from './live.js';
import { isPending, state } from './state.js';
import { showUser } from './ui.js';
import { NOTICES_HASH, renderNotices } from './views/broadcasts.js';
import { renderHome } from './views/home.js';
import { renderPending } from './views/pending.js';
import { closePrompt, renderPrompt } from './views/prompt.js';

const router = {
  // The hashchange listener is added once, on the first entry.
  listening: false,
};

export async function route() {
  if (!state.device) return;
  if (isPending()) { renderPending(); return; }
  const m = location.hash.match(/^#\/approval\/([^/]+)$/);
  if (m) await renderPrompt(decodeURIComponent(m[1]));
  else if (location.hash === NOTICES_HASH) { closePrompt(); await renderNotices(); }
  else { closePrompt(); await renderHome(); }
}

export async function enter() {
  showUser(state.device.user);
  if (!router.listening) {
    window.addEventListener('hashchange', route);
    router.listening = true;
  }
  if (isPending()) { renderPending(); return; }
  runStream();
  await route();
}
