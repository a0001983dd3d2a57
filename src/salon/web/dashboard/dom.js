// Small DOM helpers the views share: element building, labelled fields, the status
// toast, the confirm dialog, copying, and how times and minutes are written.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A labelled control: the label wraps the control, so it is named by its text. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), control,
    hint ? h('span', { class: 'hint' }, hint) : null);
}

export function check(label, control) {
  return h('label', { class: 'check' }, control, h('span', {}, label));
}

let toastTimer = null;
/** Say something in the polite live region (screen readers hear it too). */
export function toast(message, bad = false) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.toggle('bad', bad);
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), bad ? 6000 : 3000);
}

export function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

/** Run an action from a button: disabled while it runs, errors said in the toast. */
export async function act(button, work, done) {
  if (button) button.disabled = true;
  try {
    const result = await work();
    if (done) toast(done);
    return result;
  } catch (error) {
    toast(error.message, true);
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

export async function copy(text, what = 'Copied') {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} to the clipboard.`);
  } catch {
    toast('The browser refused the clipboard; select the text and copy it.', true);
  }
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function minutes(value) {
  if (value === null || value === undefined) return '—';
  return value < 1 ? `${Math.round(value * 60)} s` : `${value.toFixed(1)} min`;
}

export function pill(text, kind = '') {
  return h('span', { class: `pill ${kind}` }, text);
}

export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message || String(error));
}

/** Previous / next for a paged list (`paging` of the envelope). */
export function pager(paging, page, perPage, go) {
  const total = paging?.total_count ?? 0;
  const last = Math.max(1, Math.ceil(total / perPage));
  return h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'small', disabled: page <= 1, onclick: () => go(page - 1) }, 'Previous'),
    h('span', { class: 'muted' }, `Page ${page} of ${last} (${total})`),
    h('button', { type: 'button', class: 'small', disabled: page >= last, onclick: () => go(page + 1) }, 'Next'));
}
