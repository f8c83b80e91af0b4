/**
 * Wraps the write routes of the settings API so each records its audit entry (server/audit/route-audits.ts) in the
 * same transaction as the change (server/audit/audited.ts): the entry commits only with the handler's writes, with
 * the caller's HighLevel user as the actor.
 */
import type { Database } from '../../models/database';
import type { ApiRoute } from '../http/api-route';
import { audited, auditBy, auditedStep, pick, type Describe } from './audited';
import { AUDITED_IN_USE_CASE, NOT_CONFIGURATION, ROUTE_AUDITS, type RouteInput } from './route-audits';

/** `METHOD path`, the key of a route in ROUTE_AUDITS. */
export const routeKey = (route: Pick<ApiRoute<any, any, any, any>, 'method' | 'path'>): string => `${route.method.toUpperCase()} ${route.path}`;

/** Write routes of `routes` that no list accounts for (must be empty: a test checks it). */
export function unauditedWriteRoutes(routes: ApiRoute<any, any, any, any>[]): string[] {
  const known = new Set([...Object.keys(ROUTE_AUDITS), ...Object.keys(AUDITED_IN_USE_CASE), ...Object.keys(NOT_CONFIGURATION)]);
  return routes.filter((r) => r.method !== 'get').map(routeKey).filter((k) => !known.has(k));
}

/** The routes, with the audited ones' handlers wrapped; `db` is the bare database (not the ambient one). */
export function withAudit(db: Database, routes: ApiRoute<any, any, any, any>[]): ApiRoute<any, any, any, any>[] {
  const reads = new Map(routes.filter((r) => r.method === 'get').map((r) => [r.path, r]));
  return routes.map((route) => {
    const spec = ROUTE_AUDITS[routeKey(route)];
    if (!spec) return route;
    const handler: ApiRoute<any, any, any, any>['handler'] = (input) => {
      const i: RouteInput = { params: input.params ?? {}, body: input.body, caller: input.caller };
      if (spec.step) return auditedStep(auditBy(input.caller, spec.action, spec.subject), spec.step, () => route.handler(input));
      let describe: Describe | undefined;
      if (spec.describe) describe = (ex) => spec.describe!(i, ex);
      else if (spec.describeVia) {
        const read = reads.get(spec.describeVia.path);
        if (!read) throw new Error(`No GET ${spec.describeVia.path} to describe ${routeKey(route)}`);
        // A read that fails (e.g. no subscription yet) describes the subject as absent rather than failing the change.
        describe = () => read.handler({ ...input, query: {}, body: undefined }).then((r) => pick(r, spec.describeVia!.fields), () => null);
      }
      const summarize = spec.summarize ? (result: unknown) => spec.summarize!(result, i) : undefined;
      return audited(db, { ...auditBy(input.caller, spec.action, spec.subject), describe, summarize }, () => route.handler(input));
    };
    return { ...route, handler };
  });
}
