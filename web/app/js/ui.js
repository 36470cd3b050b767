// Owns the page's shared furniture and how views reach it: building DOM nodes, swapping the view
// in `main`, the status line, notices, the signed-in user, dates and request labels.

const screen = {
  // Counts the views shown, so a view whose data arrives after another was shown gives way.
  views: 0,
};

export const main = () => document.getElementById('main');

// Builds DOM nodes; text is always set as text, never parsed as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function show(...nodes) {
  screen.views += 1;
  const m = main();
  m.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
  const heading = m.querySelector('h1');
  (heading || m).setAttribute('tabindex', '-1');
  (heading || m).focus();
}

// Returns a check that turns true once another view has been shown.
export function viewChanged() {
  const at = screen.views;
  return () => screen.views !== at;
}

export function status(text) {
  document.getElementById('status').textContent = text || '';
}

export function notice(kind, text) {
  return el('div', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, text);
}

// The user this browser is enrolled for, in the header.
export function showUser(name) {
  document.getElementById('who').textContent = name;
}

export const when = (iso) => new Date(iso).toLocaleString();

export const KIND_LABELS = { login: 'Sign-in', transaction: 'Transaction', access: 'Access request', agent_action: 'Agent action' };
