/**
 * A small TCP proxy on 127.0.0.1 between the app's connection pool and its database, which a test can break on
 * command: cut every open connection (FIN, or RST like a crashed peer), refuse new ones (nothing listening,
 * accept-and-close like a balancer without a backend, or accept-and-stall), or cut a connection the moment it
 * carries a chosen bytes pattern (e.g. inside an open transaction, just before or just after its COMMIT reaches the
 * server).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * How new connections are turned away: `closed` = nothing listens (ECONNREFUSED); `drop` = accepted then closed
 * (a balancer without a backend); `stall` = accepted and never answered (a partitioned host behind a proxy).
 */
export type RefuseMode = 'closed' | 'drop' | 'stall';

/** Where a matching chunk is cut: before it reaches the database, or just after it was forwarded. */
export type CutPoint = 'before' | 'after';

export interface ChunkRule {
  /** The client's bytes (app → database) that trigger the cut. */
  matches(chunk: Buffer): boolean;
  point: CutPoint;
  /** RST instead of FIN. */
  reset?: boolean;
  /** Called when the rule fired. */
  onCut?(): void;
}

export interface TcpProxy {
  port: number;
  /** `postgres://…@127.0.0.1:<port>/<db>` from a URL to the real database. */
  urlFor(databaseUrl: string): string;
  /** Closes every open connection now, stalled ones too (RST when `reset`); returns how many were open. */
  cutAll(options?: { reset?: boolean }): number;
  /** Turns new connections away until `accept()`. */
  refuse(mode: RefuseMode): Promise<void>;
  accept(): Promise<void>;
  /** Rules checked on every client chunk; the first match cuts that connection (rules stay until removed). */
  rules: ChunkRule[];
  stats: { accepted: number; refused: number; cutConnections: number; ruleCuts: number; open(): number };
  close(): Promise<void>;
}

/** Starts a proxy to `target` (host 127.0.0.1). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const stalled = new Set<Socket>();
  let refuseMode: RefuseMode | null = null;
  let port = 0;
  let server: Server;

  const end = (pair: { client: Socket; upstream: Socket }, reset: boolean) => {
    pairs.delete(pair);
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  };

  const onConnection = (client: Socket) => {
    if (refuseMode === 'drop') {
      proxy.stats.refused += 1;
      client.destroy();
      return;
    }
    if (refuseMode === 'stall') {
      proxy.stats.refused += 1;
      stalled.add(client);
      client.on('error', () => undefined);
      client.on('close', () => stalled.delete(client));
      return;
    }
    proxy.stats.accepted += 1;
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      const rule = proxy.rules.find((r) => r.matches(chunk));
      if (!rule) {
        upstream.write(chunk);
        return;
      }
      proxy.stats.ruleCuts += 1;
      rule.onCut?.();
      if (rule.point === 'after') {
        // Let the database have it, then lose the connection before its answer comes back.
        client.pause();
        upstream.write(chunk, () => end(pair, rule.reset ?? false));
      } else {
        end(pair, rule.reset ?? false);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    const close = () => end(pair, false);
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  };

  const listen = (at: number) =>
    new Promise<void>((resolve, reject) => {
      server = createServer(onConnection);
      server.once('error', reject);
      server.listen(at, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  // Stops accepting at once; net.Server's close callback would wait for every open connection to end.
  const stopListening = () => {
    server.close();
  };

  const proxy: TcpProxy = {
    get port() {
      return port;
    },
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cutAll(options = {}) {
      const open = pairs.size + stalled.size;
      for (const pair of [...pairs]) end(pair, options.reset ?? false);
      for (const socket of [...stalled]) socket.destroy();
      stalled.clear();
      proxy.stats.cutConnections += open;
      return open;
    },
    async refuse(mode) {
      if (refuseMode === mode) return;
      if (refuseMode === 'closed') await proxy.accept();
      refuseMode = mode;
      if (mode === 'closed') stopListening();
    },
    async accept() {
      if (refuseMode === 'closed') {
        // Listen again on the same port; the pool's URL names it. Retry briefly if the kernel still holds it.
        for (let attempt = 0; ; attempt++) {
          try {
            await listen(port);
            break;
          } catch (err) {
            if (attempt >= 50) throw err;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
      refuseMode = null;
    },
    rules: [],
    stats: { accepted: 0, refused: 0, cutConnections: 0, ruleCuts: 0, open: () => pairs.size },
    async close() {
      if (refuseMode !== 'closed') stopListening();
      refuseMode = 'closed';
      proxy.cutAll();
    },
  };
  await listen(0);
  return proxy;
}
