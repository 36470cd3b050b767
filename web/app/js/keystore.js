// Owns this browser's device record in IndexedDB (`assent` / `device` / `self`), including the
// device's non-extractable private CryptoKey.

const DB_NAME = 'assent';
const STORE = 'device';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function dbOp(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req && req.result);
    tx.onerror = () => reject(tx.error);
  });
}

export const loadDevice = () => dbOp('readonly', (s) => s.get('self'));
export const saveDevice = (device) => dbOp('readwrite', (s) => s.put(device, 'self'));
export const forgetDevice = () => dbOp('readwrite', (s) => s.delete('self'));
