/**
 * What a reliability run found, kept beside the test output: one JSON line `{ suite, figures }` per test appended
 * to `test-results/reliability.jsonl` at the repository root (the folder is created when missing).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const FIGURES_FILE = path.join(__dirname, '..', '..', '..', 'test-results', 'reliability.jsonl');

/** Appends the figures of `suite` and prints them, so a CI log shows them too. */
export function recordFigures(suite: string, figures: Record<string, unknown>): void {
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  const line = JSON.stringify({ suite, figures });
  appendFileSync(FIGURES_FILE, line + '\n');
  console.log(`[reliability] ${line}`);
}
