// Owns the home view's activity: the account's requests that ended, with their context and the
// device that answered, so the user can spot what they did not do, and report an approval that
// was not theirs ("This wasn't me": push is paused and the administrators are alerted).
import { api } from '../api.js';
import { KIND_LABELS, el, status, when } from '../ui.js';
import { flash, renderHome } from './home.js';

const OUTCOMES = {
  approved: 'Approved', denied: 'Denied', fraud: 'Reported', expired: 'Expired', cancelled: 'Withdrawn',
};

function place(context) {
  const geo = context.geo || {};
  const where = [geo.city, geo.country].filter(Boolean).join(', ');
  return [context.ip, where ? `(${where})` : null].filter(Boolean).join(' ') || 'unknown address';
}

function requestItem(r) {
  const li = el('li', { 'data-activity': r.id, 'data-state': r.state },
    el('div', {}, el('strong', { text: `${OUTCOMES[r.state] || r.state}: ${KIND_LABELS[r.kind] || r.kind} · ${r.application.name}` })),
    r.binding_message ? el('div', { text: r.binding_message }) : null,
    el('div', { class: 'time' }, `from ${place(r.context)}`, r.answered_by ? ` · answered on ${r.answered_by}` : '',
      ' · ', el('time', { datetime: r.decided_at || r.created_at, text: when(r.decided_at || r.created_at) })));
  if (r.state !== 'approved') return li;
  li.append(el('div', { class: 'actions' }, el('button', {
    class: 'danger', 'data-report': r.id, text: 'This wasn’t me',
    onclick: async () => {
      if (!confirm('Report this approval as not yours? Push requests to your account will be paused and your administrators alerted.')) return;
      try {
        const reported = await api('POST', `/v1/device/activity/${encodeURIComponent(r.id)}/report`);
        flash('warn', `Reported. Push requests are paused until ${when(reported.push_suspended_until)}, and your administrators were alerted. If someone knows your password, change it.`);
      } catch (e) {
        status(e.message);
      }
      await renderHome();
    },
  })));
  return li;
}

// The activity section; `null` hides it when the server did not answer for it.
export function activitySection(activity) {
  if (!activity) return null;
  return el('section', { class: 'card', 'aria-labelledby': 'h-activity' }, el('h2', { id: 'h-activity', text: 'Recent activity' }),
    activity.requests.length
      ? el('ul', { class: 'plain', id: 'activity' }, activity.requests.map(requestItem))
      : el('p', { text: 'Nothing has happened on your account yet.' }),
    el('p', { class: 'time', text: 'Not yours? Report an approval here; revoke a device in the list below.' }));
}
