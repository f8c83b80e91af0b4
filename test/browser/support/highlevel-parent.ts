/**
 * A stand-in for HighLevel's window around the custom page: a tiny HTTP server on its own port (so the page is
 * framed cross-origin, as in HighLevel) serving a host page that frames `${appUrl}/app/…` and answers the page's
 * `{ message: 'REQUEST_USER_DATA' }` with `{ message: 'REQUEST_USER_DATA_RESPONSE', payload }`, the payload
 * encrypted with the Shared Secret the way HighLevel does (test/support/highlevel-sso.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { encryptSsoPayload } from '../../support/highlevel-sso';

/** A HighLevel user as the SSO payload carries it. */
export interface SsoUser {
  userId: string;
  companyId: string;
  role: string;
  type: 'agency' | 'location';
  userName?: string;
  email?: string;
  activeLocation?: string;
}

export interface HighLevelParent {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The host page framing `appPath` (default `/app/`) for the user registered as `as`. */
  url(as: string, appPath?: string): string;
  /** Registers a user the host page can sign in as. */
  users: Map<string, SsoUser>;
  /** How many REQUEST_USER_DATA messages the host answered. */
  answered: number;
  close(): Promise<void>;
}

export async function startHighLevelParent(options: { appUrl: string; sharedSecret: string }): Promise<HighLevelParent> {
  const appOrigin = new URL(options.appUrl).origin;
  const sockets = new Set<Socket>();
  const parent: HighLevelParent = {
    origin: '',
    url: (as, appPath = '/app/') => `${parent.origin}/?as=${encodeURIComponent(as)}&path=${encodeURIComponent(appPath)}`,
    users: new Map(),
    answered: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname === '/payload') {
      const user = parent.users.get(url.searchParams.get('as') ?? '');
      if (!user) return void res.writeHead(404).end();
      parent.answered += 1;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(encryptSsoPayload(user, options.sharedSecret));
      return;
    }
    const as = url.searchParams.get('as') ?? '';
    const appPath = url.searchParams.get('path') ?? '/app/';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage(`${appOrigin}${appPath}`, appOrigin, as));
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  parent.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return parent;
}

function hostPage(src: string, appOrigin: string, as: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HighLevel (test parent)</title>
<style>body{margin:0;font-family:sans-serif} header{height:40px;background:#1f2937;color:#fff;display:flex;align-items:center;padding:0 12px}
iframe{display:block;border:0;width:100%;height:calc(100vh - 40px)}</style></head>
<body><header>HighLevel</header>
<iframe id="app" title="Meterbridge" src="${src}"></iframe>
<script>
  const frame = document.getElementById('app');
  window.addEventListener('message', async (event) => {
    if (event.source !== frame.contentWindow || !event.data || event.data.message !== 'REQUEST_USER_DATA') return;
    const payload = await (await fetch('/payload?as=${encodeURIComponent(as)}')).text();
    frame.contentWindow.postMessage({ message: 'REQUEST_USER_DATA_RESPONSE', payload }, ${JSON.stringify(appOrigin)});
  });
</script></body></html>`;
}
