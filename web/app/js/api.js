// Owns the calls to the Assent server: a fresh device proof for each, the fetch wrapper, and the
// problem documents (RFC 9457) turned into errors.
import { now, randomId, signProof } from './crypto.js';
import { state } from './state.js';

// Dispatched on `document` when the server says this device is revoked; app.js shows it.
export const DEVICE_REVOKED = 'assent:device-revoked';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'unknown';
  }
}

export class Unreachable extends Error {}

export function reportRevoked() {
  document.dispatchEvent(new Event(DEVICE_REVOKED));
}

export async function proof(method, path) {
  return signProof(state.device.privateKey, state.device.jwk, {
    jti: randomId(), htm: method, htu: location.origin + path, iat: now(),
  });
}

export async function api(method, path, body, { auth = true, signal } = {}) {
  const headers = {};
  if (auth) headers.DPoP = await proof(method, path);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new Unreachable('The Assent server cannot be reached. Check your connection; nothing was answered.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (err.code === 'device_revoked') reportRevoked();
    throw err;
  }
  return data;
}
