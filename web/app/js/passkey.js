// Owns this device's passkey: the user-verification factor (a fingerprint, face or PIN check)
// that requests needing user verification require on top of the device key. It is created while
// enrolling; a device waiting for activation registers it with the server once approved.
import { ApiError, api } from './api.js';
import { b64u, b64uDecode, sha256, utf8 } from './crypto.js';
import { saveDevice } from './keystore.js';
import { isPending, state } from './state.js';

export async function setUpPasskey() {
  if (!window.PublicKeyCredential || !navigator.credentials) return;
  try {
    const cred = await navigator.credentials.create({ publicKey: {
      rp: { id: location.hostname, name: 'Assent' },
      user: { id: utf8(state.device.device_id), name: state.device.user, displayName: state.device.user },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { userVerification: 'required', residentKey: 'discouraged' },
      attestation: 'none',
      timeout: 60000,
    } });
    const spki = cred.response.getPublicKey && cred.response.getPublicKey();
    if (!spki || cred.response.getPublicKeyAlgorithm() !== -7) throw new Error('not an ES256 passkey');
    state.device.passkey_unregistered = { credential_id: b64u(cred.rawId), public_key: b64u(spki) };
    await saveDevice(state.device);
  } catch (e) {
    console.warn('passkey not set up', e);
    return;
  }
  if (!isPending()) await registerPasskey();
}

export async function registerPasskey() {
  const passkey = state.device.passkey_unregistered;
  if (!passkey) return;
  try {
    await api('POST', '/v1/device/passkey', passkey);
    state.device.passkey_id = passkey.credential_id;
    delete state.device.passkey_unregistered;
    await saveDevice(state.device);
  } catch (e) {
    console.warn('passkey not registered', e);
  }
}

// The passkey's assertion over a decision statement: the challenge is the statement's SHA-256.
export async function passkeyAssertion(statement) {
  if (!state.device.passkey_id) {
    throw new ApiError(422, { code: 'user_verification_required', detail: 'This device has no passkey, so it cannot approve requests that need user verification.' });
  }
  const cred = await navigator.credentials.get({ publicKey: {
    challenge: await sha256(statement),
    rpId: location.hostname,
    allowCredentials: [{ type: 'public-key', id: b64uDecode(state.device.passkey_id) }],
    userVerification: 'required',
    timeout: 60000,
  } });
  return {
    credential_id: b64u(cred.rawId),
    authenticator_data: b64u(cred.response.authenticatorData),
    client_data_json: b64u(cred.response.clientDataJSON),
    signature: b64u(cred.response.signature),
  };
}
