// Owns the prompt: one request shown in full with its countdown, and the signed answer to it
// (approve, deny, or deny and report).
import { api } from '../api.js';
import { detailsHash, now, signDecision } from '../crypto.js';
import { passkeyAssertion } from '../passkey.js';
import { state } from '../state.js';
import { KIND_LABELS, el, main, notice, show, when } from '../ui.js';

const prompt = {
  // The id of the request whose prompt is open, or null.
  id: null,
  // The countdown's interval timer.
  countdown: null,
};

export function openApproval(id) {
  location.hash = `#/approval/${encodeURIComponent(id)}`;
}

// Whether a prompt is open or about to open: live updates then leave the screen alone.
export function promptShown() {
  return Boolean(prompt.id) || location.hash.startsWith('#/approval/');
}

export function stopCountdown() {
  clearInterval(prompt.countdown);
}

export function closePrompt() {
  prompt.id = null;
  stopCountdown();
}

// A request ended elsewhere (heard on the live stream): if its prompt is open, it says so and
// returns true.
export function endPrompt(id, outcome) {
  if (prompt.id !== id) return false;
  closePrompt();
  show(el('h1', { text: 'Request ended' }), notice('warn', finalMessage(outcome)), backHome());
  return true;
}

// One authorization detail, every field of it: the amount large, then each other field by name
// (nested objects, such as an account, field by field), so nothing the user approves is hidden.
function describeDetail(d) {
  const rows = [];
  const amount = d.amount !== undefined ? `${d.amount}${d.currency ? ' ' + d.currency : ''}` : null;
  const box = el('div', { class: 'detail' }, el('div', { class: 'time', text: d.type }));
  if (amount) box.append(el('div', { class: 'amount', 'data-field': 'amount', text: amount }));
  const add = (key, label, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
      for (const [k, inner] of Object.entries(v)) add(`${key}.${k}`, `${label} ${k.replace(/_/g, ' ')}`, inner);
      return;
    }
    rows.push(el('dt', { text: label }), el('dd', { 'data-field': key, text: typeof v === 'string' ? v : JSON.stringify(v) }));
  };
  for (const [k, v] of Object.entries(d)) {
    if (k === 'type' || (amount && (k === 'amount' || k === 'currency'))) continue;
    add(k, k.replace(/_/g, ' '), v);
  }
  if (rows.length) box.append(el('dl', { class: 'context' }, rows));
  return box;
}

// An approver's prompt of an access request: how far the quorum is, and who answered so far.
// Shown, not signed: it changes as the other approvers answer.
function accessProgress(ar) {
  if (!ar) return null;
  return el('section', { class: 'card', id: 'access-progress', 'aria-label': 'Approvals so far' },
    el('p', {}, el('strong', { text: `Approvals: ${ar.approved_by.length} of ${ar.approvals_required} needed` })),
    el('p', { id: 'approved-by', text: ar.approved_by.length ? `Approved by ${ar.approved_by.join(', ')}` : 'No one has approved yet.' }),
    ar.denied_by.length ? el('p', { id: 'denied-by', text: `Denied by ${ar.denied_by.join(', ')}` }) : null,
    el('p', { class: 'time', text: `${ar.requester} can never approve this request. ${ar.denials_required} denial${ar.denials_required === 1 ? '' : 's'} reject${ar.denials_required === 1 ? 's' : ''} it.` }));
}

// The prompt's heading. An agent acts for the user, so its prompt names the agent and says what
// it asks to do (the details below), never merely "allow the agent".
function heading(a) {
  if (a.kind === 'agent_action') return `Agent ${a.application.name}, acting for you, asks to:`;
  if (a.access_request && a.access_request.co_approval_of) return `${a.access_request.requester} approved this and asks you to co-approve it`;
  if (a.access_request) return `${a.access_request.requester} asks for access through ${a.application.name}`;
  return `${KIND_LABELS[a.kind] || a.kind} requested by ${a.application.name}`;
}

export async function renderPrompt(id) {
  let a;
  try {
    a = await api('GET', `/v1/device/approvals/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.code === 'device_revoked') return;
    show(el('h1', { text: 'Request' }), notice('bad', e.code === 'not_found' ? 'This request does not exist.' : e.message), backHome());
    return;
  }
  if (a.state !== 'pending') {
    show(el('h1', { text: 'Request' }), notice('warn', finalMessage(a.state)), backHome());
    return;
  }
  const hashOk = (await detailsHash(a)) === a.details_hash;
  // An agent shows the code where its user talks with it: there is no sign-in screen.
  const agent = a.kind === 'agent_action';
  prompt.id = a.id;
  const ctx = a.context || {};
  const place = ctx.geo ? [ctx.geo.city, ctx.geo.country].filter(Boolean).join(', ') : '';
  const codeInput = a.code_required
    ? el('input', { type: 'text', id: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: String(a.code_length || 10), 'aria-describedby': 'code-help' })
    : null;
  const left = el('span', { class: 'countdown', id: 'time-left' });
  const message = el('div', { id: 'prompt-message' });
  const buttons = [
    el('button', { class: 'primary', id: 'approve', type: 'submit', text: 'Approve' }),
    el('button', { type: 'button', id: 'deny', onclick: () => answer(a, 'deny'), text: 'Deny' }),
    el('button', { class: 'danger', type: 'button', id: 'fraud', onclick: () => answer(a, 'fraud'), text: 'Deny and report: this wasn’t me' }),
  ];
  show(
    el('h1', { text: heading(a) }),
    hashOk ? null : notice('bad', 'The details of this request do not match their signature hash. Do not approve it.'),
    agent && !(a.authorization_details || []).length
      ? notice('bad', 'This agent does not say what it wants to do. Do not approve it.') : null,
    el('section', { class: 'card', 'aria-label': 'What is asked' },
      a.binding_message ? el('p', { id: 'binding-message' }, el('strong', { text: a.binding_message })) : null,
      (a.authorization_details || []).map(describeDetail),
      accessProgress(a.access_request),
      el('dl', { class: 'context' },
        el('dt', { text: 'Application' }), el('dd', { text: a.application.name }),
        el('dt', { text: 'Action' }), el('dd', { text: KIND_LABELS[a.kind] || a.kind }),
        el('dt', { text: 'From' }), el('dd', { id: 'from' }, [ctx.ip, place ? `(${place})` : null].filter(Boolean).join(' ') || 'unknown'),
        ctx.user_agent ? [el('dt', { text: 'Browser' }), el('dd', { text: ctx.user_agent })] : null,
        ctx.device_id ? [el('dt', { text: 'Their device' }), el('dd', { text: ctx.device_id })] : null,
        el('dt', { text: 'Asked at' }), el('dd', { text: when(a.created_at) }),
        el('dt', { text: 'Time left' }), el('dd', {}, left))),
    el('form', { onsubmit: (e) => { e.preventDefault(); answer(a, 'approve', codeInput && codeInput.value.trim()); } },
      codeInput ? [el('label', { for: 'code', text: agent ? 'Code shown by the agent' : a.access_request ? 'Code shown with the request' : 'Code shown on the sign-in screen' }), codeInput,
        el('p', { id: 'code-help', class: 'time', text: agent
          ? 'Type the number the agent shows you where you talk with it. If it shows you no number, you did not ask for this: report it.'
          : a.access_request ? 'Type the number the application shows you next to this request. If it shows you no number, do not approve.'
            : 'Type the number you see where you are signing in. If you see no number, you did not start this: report it.' })] : null,
      a.user_verification_required ? notice('warn', 'Approving needs your passkey: a fingerprint, face or PIN check.') : null,
      message,
      el('div', { class: 'actions' }, buttons)),
  );
  if (codeInput) codeInput.focus();
  const expires = new Date(a.expires_at).getTime();
  stopCountdown();
  const tick = () => {
    const s = Math.max(0, Math.round((expires - Date.now()) / 1000));
    left.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    if (s === 0) {
      stopCountdown();
      buttons.forEach((b) => { b.disabled = true; });
      message.replaceChildren(notice('warn', 'This request has expired.'));
    }
  };
  tick();
  prompt.countdown = setInterval(tick, 1000);
}

function finalMessage(outcome, reason) {
  if (reason === 'wrong_code') return 'The code did not match the one on the sign-in screen, so the request was denied. If you did not start this, report it to your administrator.';
  return {
    approved: 'Approved.', denied: 'Denied.', fraud: 'Denied and reported. Push requests to your account are paused; if someone knows your password, change it.',
    expired: 'This request has expired.', cancelled: 'This request was withdrawn by the application.',
  }[outcome] || `This request is ${outcome}.`;
}

async function answer(a, decision, code) {
  const message = document.getElementById('prompt-message');
  const buttons = main().querySelectorAll('button');
  if (decision === 'approve' && a.code_required && !code) {
    message.replaceChildren(notice('bad', a.kind === 'agent_action' ? 'Type the code the agent shows you first.' : 'Type the code shown on the sign-in screen first.'));
    document.getElementById('code').focus();
    return;
  }
  buttons.forEach((b) => { b.disabled = true; });
  try {
    // An approval signs only what was shown; a refusal is always safe to sign, even of a request
    // whose details do not match their hash (so it can be reported).
    const computed = await detailsHash(a);
    if (computed !== a.details_hash && decision === 'approve') throw new Error('The details do not match their hash; refusing to approve.');
    const hash = decision === 'approve' ? computed : a.details_hash;
    const statement = await signDecision(state.device.privateKey, state.device.device_id, {
      request_id: a.id, nonce: a.nonce, details_hash: hash, decision, code, iat: now(),
    });
    const body = { statement };
    if (decision === 'approve' && a.user_verification_required) body.user_verification = await passkeyAssertion(statement);
    const result = await api('POST', `/v1/device/approvals/${encodeURIComponent(a.id)}/decision`, body, { auth: false });
    closePrompt();
    if (result.awaiting_approvals) {
      // Four eyes: the policy asks for co-approvers; the request stays open until they approve.
      const n = result.awaiting_approvals;
      show(el('h1', { text: 'Approved by you' }),
        notice('ok', `This request also needs ${n} approval${n === 1 ? '' : 's'} from a co-approver. It goes through only when ${n === 1 ? 'one approves' : 'they approve'}; a co-approver’s denial stops it.`),
        backHome());
      return;
    }
    show(el('h1', { text: result.state === 'approved' ? 'Approved' : 'Done' }), notice(result.state === 'approved' ? 'ok' : 'warn', finalMessage(result.state)), backHome());
  } catch (e) {
    const final = { wrong_code: ['denied', 'wrong_code'], expired: ['expired'], already_decided: ['already'] }[e.code];
    if (final) {
      closePrompt();
      const text = final[0] === 'already' ? 'This request was already answered (perhaps on another device).' : finalMessage(final[0], final[1]);
      show(el('h1', { text: 'Not approved' }), notice('bad', text), backHome());
      return;
    }
    message.replaceChildren(notice('bad', e.name === 'NotAllowedError' ? 'The passkey check was cancelled or failed; nothing was sent.' : e.message));
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function backHome() {
  return el('div', { class: 'actions' }, el('button', { onclick: () => { location.hash = ''; }, text: 'Back to requests' }));
}
