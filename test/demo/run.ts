/**
 * `npm run demo` — see demo.ts. Flags: `--port N` (default 3000, or PORT), `--fast` (no pauses: the walk in seconds),
 * `--once` (stop after the walk instead of trickling traffic until Ctrl-C).
 */
import { runDemo } from './demo';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(name);
  const portAt = args.indexOf('--port');
  const port = Number(portAt >= 0 ? args[portAt + 1] : (process.env.PORT ?? 3000));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${args[portAt + 1]}`);
  const demo = await runDemo({ port, paceMs: flag('--fast') ? 0 : 400, campaignSize: 500, keepGoing: !flag('--once'), say: (line) => console.log(line) });
  const shutdown = async () => {
    console.log('Stopping the demo…');
    await demo.stop();
    process.exit(0);
  };
  if (flag('--once')) return shutdown();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
