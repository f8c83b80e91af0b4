/**
 * Stripe's wire format as the double speaks it: form-encoded requests with bracket keys, JSON answers, errors
 * `{ error: { type, code?, message, param? } }` (docs.stripe.com/api/errors), lists (docs.stripe.com/api/pagination)
 * and metadata (docs.stripe.com/api/metadata). Pure helpers shared by every resource file.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StripeJson } from './types';

/** A parsed form value: a string, an array (from indexed keys `a[0]`, `a[]`) or an object (from `a[b]`). */
export type FormValue = string | FormValue[] | FormObject;
/** A parsed form body or query, e.g. `{ items: [{ price: 'price_1' }], metadata: { k: 'v' } }`. */
export interface FormObject {
  [key: string]: FormValue;
}

/**
 * Parses `application/x-www-form-urlencoded` text the way Stripe reads stripe-node's encoding:
 * `items[0][price]=p&metadata[k]=v&lookup_keys[]=a` → `{ items: [{ price: 'p' }], metadata: { k: 'v' }, lookup_keys: ['a'] }`.
 * Objects whose keys are all non-negative integers become arrays (ordered by index).
 */
export function parseForm(encoded: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    const path = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!)] : [rawKey];
    let node: FormObject = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === '' ? String(Object.keys(node).length) : path[i]!;
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        const next = node[segment];
        if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[segment] = {};
        node = node[segment] as FormObject;
      }
    }
  }
  return arrayify(root) as FormObject;
}

function arrayify(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arrayify(value[key]!);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => converted[k]!);
  }
  return converted;
}

/** A Stripe error answer, thrown inside handlers. */
export class StripeFakeError extends Error {
  constructor(
    readonly status: number,
    readonly error: { type: string; code?: string; message: string; param?: string },
  ) {
    super(error.message);
  }
}

/** A 400 `invalid_request_error`. */
export const invalid = (message: string, param?: string, code?: string) =>
  new StripeFakeError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
/** A 400 "Missing required param: …" (`parameter_missing`). */
export const missingParam = (param: string) => invalid(`Missing required param: ${param}.`, param, 'parameter_missing');
/** "No such …: 'id'" (`resource_missing`), 404 by default, 400 when it names a parameter. */
export const noSuch = (what: string, id: string, param = 'id', status = 404) =>
  new StripeFakeError(status, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${what}: '${id}'` });

/** Now in Unix seconds. */
export const now = () => Math.floor(Date.now() / 1000);
/** A Stripe-looking id: `prefix_` + 24 random alphanumerics. */
export const newId = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, '').slice(0, 24)}`;
/** Form-value readers: a string, an object, a list (`''` = empty list), a boolean; undefined otherwise. */
export const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
export const obj = (v: FormValue | undefined): FormObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
export const arr = (v: FormValue | undefined): FormValue[] | undefined => (Array.isArray(v) ? v : v === '' ? [] : undefined);
export const bool = (v: FormValue | undefined): boolean | undefined => (v === 'true' ? true : v === 'false' ? false : undefined);

/** Masks a key as Stripe's messages show it: `rk_test_` + stars + the last 6 characters. */
export function maskKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? key.slice(0, 3);
  const tail = key.length - prefix.length > 6 ? key.slice(-6) : '';
  return `${prefix}${'*'.repeat(Math.max(4, key.length - prefix.length - tail.length))}${tail}`;
}


/** docs.stripe.com/api/pagination: newest first, `limit` 1–100 (default 10), `starting_after` an id. */
export function list(items: StripeJson[], params: FormObject, url: string, view: (o: StripeJson) => StripeJson = (o) => o) {
  const limit = str(params.limit) === undefined ? 10 : Number(str(params.limit));
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Invalid integer: limit must be between 1 and 100.', 'limit');
  let ordered = [...items].reverse();
  const after = str(params.starting_after);
  if (after) {
    const at = ordered.findIndex((o) => o.id === after);
    if (at < 0) throw noSuch('object', after, 'starting_after', 400);
    ordered = ordered.slice(at + 1);
  }
  return { object: 'list', data: ordered.slice(0, limit).map(view), has_more: ordered.length > limit, url };
}

/** docs.stripe.com/api/metadata: up to 50 keys, keys ≤ 40 chars, values ≤ 500 chars; '' unsets a key. */
export function mergeMetadata(current: Record<string, string>, param: FormValue | undefined): Record<string, string> {
  if (param === undefined) return current;
  if (param === '') return {};
  const given = obj(param);
  if (!given) throw invalid('Invalid metadata: must be an object.', 'metadata');
  const next = { ...current };
  for (const [key, value] of Object.entries(given)) {
    if (typeof value !== 'string') throw invalid(`Invalid value for metadata[${key}]: must be a string.`, `metadata[${key}]`);
    if (key.length > 40) throw invalid(`Metadata keys can have up to 40 characters; '${key}' is longer.`, `metadata[${key}]`);
    if (value.length > 500) throw invalid(`Metadata values can have up to 500 characters.`, `metadata[${key}]`);
    if (value === '') delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > 50) throw invalid('You can have up to 50 metadata keys.', 'metadata');
  return next;
}

/** The non-empty string parameter `name`, or "Missing required param". */
export function requireString(params: FormObject, name: string): string {
  const value = str(params[name]);
  if (value === undefined || value === '') throw missingParam(name);
  return value;
}

/** An integer parameter ≥ `min`, or undefined when absent; otherwise 400. */
export function integer(value: FormValue | undefined, param: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const s = str(value);
  if (s === undefined || !/^-?\d+$/.test(s) || Number(s) < min) throw invalid(`Invalid integer: ${String(s)}`, param);
  return Number(s);
}

/** A decimal-string amount in cents (≤ 12 places), normalised; undefined when absent. */
export function decimal(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  const s = str(value);
  // docs.stripe.com/api/prices/create: "a decimal value in cents … with at most 12 decimal places".
  if (s === undefined || !/^\d+(\.\d{1,12})?$/.test(s)) throw invalid(`Invalid decimal: ${String(s)}`, param);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s.replace(/^0+(?=\d)/, '');
}


/** A lookup by id in one of the fake's maps; an unknown id is Stripe's 404 `resource_missing`. */
export const byId = (map: Map<string, StripeJson>, what: string) => (id: string) => {
  const found = map.get(id);
  if (!found) throw noSuch(what, id);
  return found;
};

/** The id group of a route pattern. */
export const ID = '([A-Za-z0-9_-]+)';

/** The request body as UTF-8 text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers JSON with a `request-id` header, as Stripe does. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${Date.now()}`, ...headers });
  res.end(JSON.stringify(body));
}

/** A v2 JSON body as parameters; an unparsable or non-object body as none (the route then names what is missing). */
export function jsonParams(raw: string): FormObject {
  try {
    const parsed = JSON.parse(raw || '{}') as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as FormObject) : {};
  } catch {
    return {};
  }
}
