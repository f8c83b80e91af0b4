/**
 * PostgreSQL cannot store every JSON value: `jsonb` refuses the NUL character (\u0000) and text refuses unpaired
 * UTF-16 surrogates, and very deep nesting exhausts its stack. A delivery carrying any of them is refused with a
 * 400 before anything is written, rather than failing the transaction with a 500 that HighLevel would retry forever.
 */

/** Nesting deeper than this is refused (HighLevel's payloads are 3 levels deep). */
export const MAX_JSON_DEPTH = 64;

/**
 * @returns a description of the first unstorable place (e.g. `body.type: unpaired surrogate`), or null when the
 *   whole value can be stored. Iterative, so hostile nesting cannot overflow the stack here.
 */
export function findUnstorableJson(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: 'body', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return `${path}: unpaired UTF-16 surrogate`;
      if (v.includes('\u0000')) return `${path}: NUL character`;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
    else {
      for (const [key, item] of Object.entries(v)) {
        if (!key.isWellFormed() || key.includes('\u0000')) return `${path}: a key with an unpaired surrogate or NUL`;
        stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return null;
}
