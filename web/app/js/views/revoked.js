// Owns the screen shown once the server says this device is revoked, and forgetting the device.
import { forgetDevice } from '../keystore.js';
import { stopStream } from '../live.js';
import { state } from '../state.js';
import { el, notice, show } from '../ui.js';
import { renderEnroll } from './enroll.js';
import { stopCountdown } from './prompt.js';

export function showRevoked() {
  stopCountdown();
  stopStream();
  show(
    el('h1', { text: 'This device has been revoked' }),
    notice('bad', 'It can no longer see or answer requests. If you did not revoke it, tell your administrator.'),
    el('div', { class: 'actions' }, el('button', { onclick: async () => { await forgetDevice(); state.device = null; renderEnroll(); }, text: 'Forget this device' })),
  );
}
