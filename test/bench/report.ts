/**
 * The benchmark's output: each figure beside its target and whether it is met, as a Markdown table (printed, and
 * pasted as-is into the README), plus where the CPU went in each phase.
 */
import type { CpuShares } from './cpu';

export interface Figure {
  /** The figure's number in the table (1–8 the pipeline, issue 20; 9–10 the owner's views, issue 22). */
  n: number;
  name: string;
  measured: string;
  target: string;
  /** null: a baseline or context line with no target of its own; 'n/a': cannot be measured in this set-up. */
  met: boolean | null | 'n/a';
}

const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const int = (n: number) => (Number.isFinite(n) ? fmtInt.format(n) : 'n/a');
export const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : fmtInt.format(n)} ms` : 'n/a');
export const sec = (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} s` : 'n/a');
export const mb = (bytes: number) => (Number.isFinite(bytes) ? `${fmtInt.format(bytes / 2 ** 20)} MB` : 'n/a');
export const ratio = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

export function figuresTable(figures: Figure[]): string {
  const verdict = (met: Figure['met']) => (met === null ? '' : met === 'n/a' ? 'n/a' : met ? 'met' : '**MISSED**');
  const lines = ['| # | figure | measured | target | |', '|---|---|---|---|---|'];
  for (const f of figures) lines.push(`| ${f.n} | ${f.name} | ${f.measured} | ${f.target} | ${verdict(f.met)} |`);
  return lines.join('\n');
}

export function cpuTable(phases: Array<{ phase: string; cpu: CpuShares }>): string {
  const columns = ['app', 'app2', 'bare', 'postgres', 'loadgen', 'stub', 'machine', 'other'];
  const used = columns.filter((c) => phases.some((p) => p.cpu[c] !== undefined && p.cpu[c] !== null));
  const lines = [`| phase (% of one core) | ${used.join(' | ')} |`, `|---|${used.map(() => '---:').join('|')}|`];
  for (const p of phases) lines.push(`| ${p.phase} | ${used.map((c) => (typeof p.cpu[c] === 'number' ? `${p.cpu[c]}` : '')).join(' | ')} |`);
  return lines.join('\n');
}
