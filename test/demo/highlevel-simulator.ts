/**
 * A simulated HighLevel for `npm run demo`: the few endpoints an install touches, answered in HighLevel's
 * documented shapes (GoHighLevel/highlevel-api-docs, OAuth 2.0 and "Get Location where app is installed"), on a
 * local port. Nothing here talks to HighLevel.
 *
 * - `GET /v2/oauth/chooselocation` (the marketplace's authorize page) sends the browser straight back to the
 *   app's `redirect_uri` with a fresh `code`, as if the agency had picked "all sub-accounts" (a bulk install).
 * - `POST /oauth/token` (form-encoded): `authorization_code` → a Company token for the demo agency with
 *   `isBulkInstallation: true`; `refresh_token` → a new pair (HighLevel rotates refresh tokens).
 * - `GET /oauth/installedLocations` (Version 2021-07-28): the demo sub-accounts, one page, skip/limit honoured.
 * - `POST /oauth/locationToken` (form companyId, locationId): a Location token for one sub-account.
 * Anything else answers 404 `{ statusCode, message }`, HighLevel's error shape.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One simulated sub-account (HighLevel location). */
export interface SimulatedLocation {
  _id: string;
  name: string;
}

/** The running simulator. */
export interface HighLevelSimulator {
  /** Base URL, e.g. http://127.0.0.1:43121 — used as both HIGHLEVEL_API_URL and HIGHLEVEL_MARKETPLACE_URL. */
  url: string;
  /** Requests served, as `METHOD /path`, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** The simulator's world: one agency (company), its app, its sub-accounts. */
export interface SimulatorOptions {
  companyId: string;
  appId: string;
  locations: SimulatedLocation[];
}

const token = (prefix: string) => `${prefix}-demo-${randomBytes(12).toString('hex')}`;

/** Starts the simulator on a free loopback port. */
export async function startHighLevelSimulator(options: SimulatorOptions): Promise<HighLevelSimulator> {
  const requests: string[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    requests.push(`${req.method} ${url.pathname}`);
    const body = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(await readBody(req))) : {};
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };

    if (req.method === 'GET' && url.pathname === '/v2/oauth/chooselocation') {
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      redirect.searchParams.set('code', token('code'));
      res.writeHead(302, { location: redirect.toString() });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      if (body.grant_type !== 'authorization_code' && body.grant_type !== 'refresh_token') {
        return send(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be authorization_code or refresh_token' });
      }
      return send(200, {
        access_token: token('at'),
        token_type: 'Bearer',
        expires_in: 86399,
        refresh_token: token('rt'),
        scope: 'conversations/message.readonly locations.readonly oauth.readonly oauth.write',
        userType: 'Company',
        companyId: options.companyId,
        userId: 'demoUser000000000001',
        isBulkInstallation: true,
      });
    }
    if (req.method === 'GET' && url.pathname === '/oauth/installedLocations') {
      const skip = Number(url.searchParams.get('skip') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const page = options.locations.slice(skip, skip + limit).map((l, i) => ({ ...l, address: `${skip + i + 1} Demo Street`, isInstalled: true }));
      return send(200, { locations: page, count: options.locations.length, installToFutureLocations: true });
    }
    if (req.method === 'POST' && url.pathname === '/oauth/locationToken') {
      const location = options.locations.find((l) => l._id === body.locationId);
      if (!location || body.companyId !== options.companyId) return send(400, { statusCode: 400, message: 'Location not found for this company' });
      return send(200, {
        access_token: token('lat'),
        token_type: 'Bearer',
        expires_in: 86399,
        refresh_token: token('lrt'),
        scope: 'conversations/message.readonly locations.readonly',
        userType: 'Location',
        companyId: options.companyId,
        locationId: location._id,
        userId: 'demoUser000000000001',
      });
    }
    send(404, { statusCode: 404, message: `The demo's simulated HighLevel does not serve ${req.method} ${url.pathname}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 500, message: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
