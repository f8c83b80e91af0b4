import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
/** The house rule (README, "Layout"): files small and named for what they do, at most this many lines. */
const MAX_LINES = 300;

/** Every .ts/.tsx file under `dir`, relative to the project's root (generated migrations excluded: not written by hand). */
function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return name === 'migrations' || name === 'dist' ? [] : sourceFiles(relative);
    return /\.tsx?$/.test(name) ? [relative] : [];
  });
}

/** Lines as `wc -l` counts them: a final newline ends the last line, it does not start another. */
const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

describe('source files stay small', () => {
  it('when the server, the page and the models are read, then no file is longer than 300 lines', () => {
    const files = ['server', 'ui/src', 'models'].flatMap(sourceFiles);
    expect(files.length).toBeGreaterThan(100);
    const long = files.map((file) => [file, lineCount(readFileSync(path.join(ROOT, file), 'utf8'))] as const).filter(([, lines]) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
