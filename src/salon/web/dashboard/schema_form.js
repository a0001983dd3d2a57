// A form drawn from the served OpenAPI document: every field of a request body with its
// type, bounds, choices and default, so the editors follow the API without a copy of
// its schema here. `read()` gives the value back; `changes(a, b)` the deep difference
// that a merge-PATCH (M4, PR4) needs.

import { h } from './dom.js';

function resolve(schema, doc) {
  let current = schema || {};
  for (let i = 0; i < 10 && current.$ref; i++) {
    const { $ref, ...rest } = current;
    current = { ...doc.components.schemas[$ref.split('/').pop()], ...rest };
  }
  if (current.allOf && current.allOf.length === 1) {
    const { allOf, ...rest } = current;
    current = { ...resolve(allOf[0], doc), ...rest };
  }
  return current;
}

/** The schema with `null` taken out, and whether null was allowed. */
function unnull(schema, doc) {
  const resolved = resolve(schema, doc);
  const options = resolved.anyOf || resolved.oneOf;
  if (!options) return { schema: resolved, nullable: false };
  const rest = options.filter((o) => o.type !== 'null');
  const nullable = rest.length < options.length;
  const { anyOf, oneOf, ...outer } = resolved;
  if (rest.length === 1) return { schema: { ...resolve(rest[0], doc), ...outer }, nullable };
  if (rest.every((o) => 'const' in o)) return { schema: { ...outer, enum: rest.map((o) => o.const) }, nullable };
  return { schema: { ...outer, anyOf: rest }, nullable };
}

const label = (key) => key.replace(/_/g, ' ');
const shown = (v) => (v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function hint(def, extra) {
  const parts = [];
  if (def !== undefined) parts.push(`default: ${shown(def)}`);
  if (extra) parts.push(extra);
  return parts.length ? h('span', { class: 'hint' }, parts.join(' · ')) : null;
}

function bounds(schema) {
  const lo = schema.minimum ?? schema.exclusiveMinimum;
  const hi = schema.maximum ?? schema.exclusiveMaximum;
  if (lo === undefined && hi === undefined) return '';
  return `${lo ?? '…'}–${hi ?? '…'}`;
}

function scalar(key, path, schema, nullable, value, def) {
  const attrs = { 'data-path': path, name: path };
  let control;
  let read;
  if (schema.type === 'boolean' && !nullable) {
    control = h('input', { ...attrs, type: 'checkbox', checked: Boolean(value) });
    read = () => control.checked;
    return { element: h('label', { class: 'check' }, control, h('span', {}, label(key)), hint(def)), read };
  }
  if (schema.type === 'boolean' || schema.enum || 'const' in schema) {
    const choices = schema.type === 'boolean' ? [true, false] : schema.enum || [schema.const];
    const all = nullable ? [null, ...choices] : choices;
    control = h('select', attrs, ...all.map((c) => h('option', { value: shown(c), selected: c === value }, shown(c))));
    read = () => all.find((c) => shown(c) === control.value);
  } else if (schema.type === 'integer' || schema.type === 'number') {
    control = h('input', { ...attrs, type: 'number', inputmode: 'decimal', value: value ?? '',
      step: schema.type === 'integer' ? '1' : 'any',
      min: schema.minimum ?? undefined, max: schema.maximum ?? undefined });
    read = () => (control.value === '' ? (nullable ? null : undefined) : Number(control.value));
  } else if (schema.type === 'string') {
    control = h('input', { ...attrs, type: 'text', value: value ?? '', maxlength: schema.maxLength ?? undefined, spellcheck: 'false' });
    read = () => (control.value === '' ? (nullable ? null : (value === undefined ? undefined : '')) : control.value);
  } else {
    control = h('textarea', { ...attrs, spellcheck: 'false' }, value === undefined ? '' : JSON.stringify(value, null, 2));
    read = () => {
      if (!control.value.trim()) return nullable ? null : undefined;
      try { return JSON.parse(control.value); } catch { throw new Error(`${path}: not valid JSON.`); }
    };
  }
  const element = h('label', { class: 'field' }, h('span', {}, label(key)), control, hint(def, bounds(schema)));
  return { element, read };
}

/** The form for `schema` holding `value`; `defaults` mirror the value's shape. */
export function schemaForm(schema, value, doc, { defaults, path = '', skip = [] } = {}) {
  const { schema: resolved, nullable } = unnull(schema, doc);
  const def = defaults ?? resolved.default;
  if (resolved.type === 'object' && resolved.properties) {
    const parts = [];
    const readers = {};
    for (const [key, prop] of Object.entries(resolved.properties)) {
      if (skip.includes(key)) continue;
      const childPath = path ? `${path}.${key}` : key;
      const propDef = resolve(prop, doc).default ?? prop.default ?? def?.[key];
      const child = schemaForm(prop, value?.[key], doc, { defaults: propDef, path: childPath, key });
      parts.push(child.element);
      readers[key] = child.read;
    }
    const read = () => {
      const out = {};
      for (const [key, reader] of Object.entries(readers)) {
        const v = reader();
        if (v !== undefined) out[key] = v;
      }
      return out;
    };
    if (!path) return { element: h('div', { class: 'stack' }, parts), read };
    const name = label(path.split('.').pop());
    const inner = h('div', { class: 'grid2' }, parts);
    if (!nullable) {
      return { element: h('fieldset', { 'data-path': path }, h('legend', {}, name), inner), read };
    }
    // An object that may be null (a watermark, storage, a live stream): off is `null`,
    // and its fields show only when it is on.
    const on = h('input', { type: 'checkbox', checked: value !== null && value !== undefined,
      'data-path': `${path}.enabled?` });
    inner.hidden = !on.checked;
    on.addEventListener('change', () => { inner.hidden = !on.checked; });
    const element = h('fieldset', { 'data-path': path }, h('legend', {}, name),
      h('label', { class: 'check' }, on, h('span', {}, `Set ${name}`), hint(def)), inner);
    return { element, read: () => (on.checked ? read() : null) };
  }
  return scalar(path.split('.').pop() || 'value', path, resolved, nullable, value, def);
}

/** What changed from `before` to `after`, objects compared key by key (undefined: nothing). */
export function changes(before, after) {
  if (after && typeof after === 'object' && !Array.isArray(after)
      && before && typeof before === 'object' && !Array.isArray(before)) {
    const out = {};
    for (const [key, value] of Object.entries(after)) {
      const diff = changes(before[key], value);
      if (diff !== undefined) out[key] = diff;
    }
    return Object.keys(out).length ? out : undefined;
  }
  // A field the server does not send back (storage secrets) and left empty is no change.
  if (before === undefined && (after === null || after === '')) return undefined;
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : after;
}

/** The request body schema of `method path` in the document. */
export function bodySchema(doc, path, method) {
  return doc.paths[path][method].requestBody.content['application/json'].schema;
}
