// Owns the screen of a device waiting for activation: its code, and the polling that notices when
// one of the user's other devices approved it (or removed it).
import { Unreachable, api } from '../api.js';
import { forgetDevice, saveDevice } from '../keystore.js';
import { runStream } from '../live.js';
import { registerPasskey } from '../passkey.js';
import { setUpPushIfAllowed } from '../push.js';
import { route } from '../router.js';
import { isPending, state } from '../state.js';
import { el, notice, show, showUser, status } from '../ui.js';
import { renderEnroll } from './enroll.js';
import { flash } from './home.js';

// A device enrolled for a user who already has one is held until one of the user's active
// devices approves it with the code shown here. Until then its only permitted call is
// GET /v1/device/me, which this screen polls.
const ACTIVATION_POLL_MS = 2000;

const poll = {
  timer: null,
  // A check is under way: another one waits for it.
  checking: false,
};

export function renderPending() {
  const device = state.device;
  show(
    el('h1', { text: 'Approve this device from one of your other devices' }),
    el('p', { text: `On a device already enrolled for ${device.user}, open Assent: under “Your devices”, “${device.name}” waits for approval. Type this code there:` }),
    el('p', { class: 'activation-code', id: 'activation-code', text: device.activation_code || '' }),
    el('p', { class: 'time', text: 'This page moves on by itself once the device is approved. Until then it can see and answer nothing.' }),
    el('p', { class: 'time', text: 'If you have no other device at hand, ask your administrator or use a recovery code where you sign in.' }),
  );
  checkActivation();
}

// A hidden page stops polling; it checks again as soon as it is shown.
export function onVisibilityChange() {
  if (isPending()) {
    if (document.hidden) clearTimeout(poll.timer);
    else checkActivation();
  }
}

function scheduleActivationCheck() {
  clearTimeout(poll.timer);
  poll.timer = setTimeout(checkActivation, ACTIVATION_POLL_MS);
}

async function checkActivation() {
  clearTimeout(poll.timer);
  if (!isPending() || poll.checking) return;
  if (document.hidden) return;
  poll.checking = true;
  try {
    const me = await api('GET', '/v1/device/me');
    status('');
    if (me.state === 'active') {
      await activated();
      return;
    }
  } catch (e) {
    if (e.code === 'invalid_device_proof') {
      await removedWhilePending();
      return;
    }
    if (e.code === 'device_revoked') return;
    status(e instanceof Unreachable ? e.message : `Cannot check this device’s state: ${e.message}`);
  } finally {
    poll.checking = false;
  }
  scheduleActivationCheck();
}

async function activated() {
  state.device.state = 'active';
  state.device.activation_code = null;
  await saveDevice(state.device);
  await registerPasskey();
  await setUpPushIfAllowed();
  flash('ok', 'This device is now active: it can see and answer your requests.');
  runStream();
  await route();
}

async function removedWhilePending() {
  clearTimeout(poll.timer);
  await forgetDevice();
  state.device = null;
  showUser('');
  show(
    el('h1', { text: 'This device was not approved' }),
    notice('bad', 'This device was not approved and has been removed. If you meant to add it, ask for a new enrollment link and approve it from one of your other devices.'),
    el('div', { class: 'actions' }, el('button', { class: 'primary', onclick: () => renderEnroll(), text: 'Enroll again' })),
  );
}
