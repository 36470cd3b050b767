// Owns the live updates: the server-sent event stream, read with fetch because EventSource cannot
// send the device proof header, and the home-view (or notices-view) redraws its events cause.
import { proof, reportRevoked } from './api.js';
import { isPending, state } from './state.js';
import { main, status } from './ui.js';
import { noticesShown, refreshNotices } from './views/broadcasts.js';
import { renderHome } from './views/home.js';
import { endPrompt, promptShown } from './views/prompt.js';

const live = {
  // Aborts the running stream.
  abort: null,
  // A redraw put off while the user types.
  refreshTimer: null,
};

export function stopStream() {
  if (live.abort) live.abort.abort();
  live.abort = null;
}

export async function runStream() {
  stopStream();
  const controller = new AbortController();
  live.abort = controller;
  let delay = 1000;
  while (!controller.signal.aborted && state.device) {
    try {
      const res = await fetch('/v1/device/stream', { headers: { DPoP: await proof('GET', '/v1/device/stream'), Accept: 'text/event-stream' }, signal: controller.signal });
      if (!res.ok) {
        const problem = await res.json().catch(() => ({}));
        if (problem.code === 'device_revoked') { reportRevoked(); return; }
        throw new Error(problem.detail || `HTTP ${res.status}`);
      }
      status('');
      delay = 1000;
      const reader = res.body.getReader();
      let buffer = '';
      let event = 'message';
      let data = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value, { stream: true });
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (data.length) onStreamEvent(event, data.join('\n'));
            event = 'message';
            data = [];
          } else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      status('Reconnecting to the server…');
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 30000);
  }
}

function onStreamEvent(event, data) {
  let payload = {};
  try { payload = JSON.parse(data); } catch (_) { return; }
  if (event === 'revoked') { reportRevoked(); return; }
  if (event === 'resolved' && endPrompt(payload.id, payload.state)) return;
  // The notices view shows the notices and how many requests wait: a new notice appears there,
  // and a request coming or going changes the count.
  if (noticesShown()) {
    if (event === 'broadcast') refreshNotices(payload.id);
    else if (event === 'approval' || event === 'resolved') refreshNotices();
    return;
  }
  refreshHome();
}

// Live updates redraw the home view, but never under the user's fingers: not while a prompt or
// new recovery codes are shown, nor while a field is being typed in (it retries a little later).
function refreshHome() {
  clearTimeout(live.refreshTimer);
  if (!state.device || isPending() || promptShown() || noticesShown()) return;
  const typing = [...main().querySelectorAll('input')].some((i) => i === document.activeElement || i.value !== i.defaultValue);
  if (state.codesShown || typing) {
    live.refreshTimer = setTimeout(refreshHome, 3000);
    return;
  }
  renderHome();
}
