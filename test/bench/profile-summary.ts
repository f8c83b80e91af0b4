/**
 * Reads a V8 CPU profile (`npm run bench -- --profile` writes the app's, for the intake run) and says where the
 * time went: self time by package or source file, and inclusive time of the frames that matter for intake.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time share by npm package, node internal or source file. */
  selfByPackage: Array<{ where: string; share: number }>;
  /** Inclusive share of named frames (the intake's layers). */
  inclusive: Array<{ frame: string; share: number }>;
}

const where = (url: string, fn: string): string => {
  if (!url) return fn || '(native)';
  const pkg = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = url.match(/\/((server|models|test)\/.+)$/);
  return own ? own[1]! : url;
};

/**
 * Frames whose inclusive time is reported: [label, function name, file substring]. Only synchronous work counts
 * under a frame (an async function's continuations run from the microtask queue), and a middleware's frame would
 * include every later middleware it calls through next(): middleware shows in the self-time list instead.
 */
const FRAMES: Array<[string, string, string]> = [
  ['receiveDelivery', 'receiveDelivery', 'webhook-intake'],
  ['signature verify', 'verify', 'webhook-signature'],
  ['zod parse', 'safeParse', 'zod'],
  ['normaliseActivity', 'normaliseActivity', 'normalise'],
  ['countSmsSegments', 'countSmsSegments', 'sms-segments'],
  ['drizzle query build (sqlToQuery)', 'sqlToQuery', 'drizzle-orm'],
  ['pg Client.query', 'query', 'pg/lib/client.js'],
  ['socket writev (pg + http)', 'writev', ''],
  ['garbage collector', '(garbage collector)', ''],
];

export function summariseProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  // Samples inside the inspector's own calls (starting and stopping this profile: `post` → `dispatch`) are the
  // profiler, not the app.
  const inProfiler = (id: number) => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (nodes.get(cur)!.callFrame.url === 'node:inspector') return true;
    return false;
  };
  for (const [id, t] of timeOf) {
    if (inProfiler(id)) continue;
    const node = nodes.get(id)!;
    total += t;
    if (node.callFrame.functionName === '(idle)') idle += t;
    const w = where(node.callFrame.url, node.callFrame.functionName);
    self.set(w, (self.get(w) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = nodes.get(cur)!.callFrame;
      for (const [label, fn, url] of FRAMES) {
        if (!seen.has(label) && f.functionName === fn && f.url.includes(url)) {
          seen.add(label);
          inclusive.set(label, (inclusive.get(label) ?? 0) + t);
        }
      }
    }
  }
  const share = (t: number) => Math.round((t / total) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    selfByPackage: [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 14)
      .map(([w, t]) => ({ where: w, share: share(t) })),
    inclusive: FRAMES.map(([label]) => ({ frame: label, share: share(inclusive.get(label) ?? 0) })).concat([
      { frame: '(idle)', share: share(idle) },
    ]),
  };
}
