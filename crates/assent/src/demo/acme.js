// Acme Bank: waits live for the outcome of an Assent approval (long poll through Acme's server).
'use strict';

const MESSAGES = {
  approved: { login: 'Signed in. Assent confirmed it was you.', transfer: 'Transfer approved and sent.' },
  denied: 'Denied on the authenticator.',
  wrong_code: 'Denied: the code typed on the authenticator did not match the one shown here.',
  fraud: 'Reported as fraud: the account owner said this was not them. This attempt has been logged and the security team alerted.',
  expired: 'Expired: no answer arrived in time.',
  cancelled: 'Cancelled.',
};

async function wait(outcome) {
  const id = outcome.dataset.approval;
  for (;;) {
    let result;
    try {
      const res = await fetch(`/api/status/${encodeURIComponent(id)}`);
      result = await res.json();
      if (!res.ok) throw new Error(result.error || `HTTP ${res.status}`);
    } catch (e) {
      outcome.textContent = `Lost contact with Acme, retrying… (${e.message})`;
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    if (result.state === 'pending') continue;
    outcome.dataset.state = result.state;
    outcome.dataset.reason = result.reason || '';
    const message = result.reason === 'wrong_code' ? MESSAGES.wrong_code
      : result.state === 'approved' ? MESSAGES.approved[result.kind] : MESSAGES[result.state] || result.state;
    outcome.textContent = message;
    outcome.className = result.state === 'approved' ? 'ok' : 'problem';
    const next = document.createElement('p');
    const link = document.createElement('a');
    link.href = result.state === 'approved' && result.kind === 'login' ? '/' : '/receipt';
    link.textContent = result.state === 'approved' && result.kind === 'login' ? 'Continue to your account' : 'See the receipt';
    link.id = 'next';
    next.append(link);
    outcome.after(next);
    document.getElementById('code')?.classList.add('done');
    return;
  }
}

const outcome = document.getElementById('outcome');
if (outcome) wait(outcome);

// An admin elevation's page refreshes itself when its state or its approvals change.
async function follow(elevation) {
  const { id, state, approved } = elevation.dataset;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const res = await fetch(`/api/elevation/${encodeURIComponent(id)}`);
      if (!res.ok) continue;
      const now = await res.json();
      if (now.state !== state || String(now.approved) !== approved) {
        location.reload();
        return;
      }
    } catch {
      // Acme is unreachable for a moment: try again.
    }
  }
}

const elevation = document.getElementById('elevation');
if (elevation && elevation.dataset.state === 'pending') follow(elevation);
