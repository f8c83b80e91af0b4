/**
 * The contracts the page shares with the server: every `schemas.ts` / `*-schemas.ts` file under server/ imports
 * nothing but zod and other such files (or the plain error catalogue), so the page's type check (ui/tsconfig.json,
 * no node types) can read it and Vite never bundles server code; the page's API types are inferred from them, not
 * written out again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);

const SCHEMA_FILE = /(^|[-/])schemas\.ts$/;
/** What a schema file may import: zod, another schema file, the error catalogue (plain data). */
const allowed = (specifier: string) => specifier === 'zod' || /(^|[-/])schemas$/.test(specifier) || /\/error-codes$/.test(specifier);

describe('contracts shared with the page', () => {
  it('when a server schema file is read, then it imports only zod, other schema files or the error catalogue', () => {
    const schemaFiles = files(path.join(ROOT, 'server')).filter((f) => SCHEMA_FILE.test(f));
    expect(schemaFiles.length).toBeGreaterThanOrEqual(9);
    const offending = schemaFiles.flatMap((f) => imports(f).filter((s) => !allowed(s)).map((s) => `${path.relative(ROOT, f)} → ${s}`));
    expect(offending).toEqual([]);
  });

  it('when the page’s API types are read, then they are inferred from server schemas, not declared by hand', () => {
    for (const file of files(path.join(ROOT, 'ui/src')).filter((f) => /api-types[^/]*\.ts$/.test(f))) {
      const text = readFileSync(file, 'utf8');
      expect({ file, handWritten: /^export interface /m.test(text) || /^export type \w+ =\s*\{/m.test(text) }).toEqual({ file, handWritten: false });
      expect(imports(file).filter((s) => s !== 'zod' && !s.startsWith('./') && !/\/server\//.test(s))).toEqual([]);
    }
  });
});
