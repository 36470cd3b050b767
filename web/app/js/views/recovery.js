// Owns recovery codes on the device: the home view's card with the count left, generating a new
// set, and the one screen that shows the new codes.
import { api } from '../api.js';
import { state } from '../state.js';
import { el, notice, show, status } from '../ui.js';
import { renderHome } from './home.js';

export function recoverySection(recovery) {
  const remaining = recovery ? recovery.remaining : null;
  const count = remaining === null ? 'The number of recovery codes left cannot be read right now.'
    : remaining === 0 ? 'You have no unused recovery codes.'
      : `${remaining} unused recovery code${remaining === 1 ? '' : 's'} left.`;
  return el('section', { class: 'card', 'aria-labelledby': 'h-recovery', id: 'recovery' },
    el('h2', { id: 'h-recovery', text: 'Recovery codes' }),
    el('p', { id: 'recovery-remaining', 'data-remaining': remaining === null ? null : String(remaining), text: count }),
    el('p', { class: 'time', text: 'A recovery code proves it is you when none of your devices can: where you sign in, or to add a new device. Each works once.' }),
    el('div', { class: 'actions' }, el('button', { id: 'generate-recovery', onclick: () => generateRecoveryCodes(remaining), text: 'Generate new codes' })));
}

async function generateRecoveryCodes(remaining) {
  const question = remaining
    ? `Generate new recovery codes? Your ${remaining} unused code${remaining === 1 ? '' : 's'} will stop working at once.`
    : 'Generate new recovery codes? Any earlier codes stop working, and the new ones are shown only once.';
  if (!confirm(question)) return;
  // Held from now on: the alert about the new codes may arrive before they do.
  state.codesShown = true;
  let result;
  try {
    result = await api('POST', '/v1/device/recovery-codes', {});
  } catch (e) {
    state.codesShown = false;
    if (e.code !== 'device_revoked') status(e.message);
    return;
  }
  renderRecoveryCodes(result.codes);
}

// While new codes are on screen, live updates do not replace them: they are shown only once.
function renderRecoveryCodes(codes) {
  state.codesShown = true;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      status('Recovery codes copied.');
    } catch (_) {
      status('This browser does not allow copying here: select the codes and copy them.');
    }
  };
  show(
    el('h1', { text: 'Your new recovery codes' }),
    notice('warn', 'Store them somewhere safe now, such as a password manager or on paper: they are shown only this once. Each code works once, and every earlier code has stopped working.'),
    el('ol', { class: 'codes', id: 'recovery-codes' }, codes.map((c) => el('li', {}, el('code', { text: c })))),
    el('div', { class: 'actions' },
      el('button', { id: 'copy-codes', onclick: copy, text: 'Copy' }),
      el('button', { class: 'primary', id: 'codes-done', onclick: () => { state.codesShown = false; renderHome(); }, text: 'I have stored them' })),
  );
}
