// Prints the path of the Chromium that ships inside the npm package @sparticuz/chromium (unpacked into the temp
// folder on first call; nothing is downloaded) and the flags it needs, as JSON. A separate ES module run by
// browser.ts in its own Node process: the package is ESM-only and finds its files through import.meta.url,
// which Jest's CommonJS transform cannot carry.
import chromium from '@sparticuz/chromium';

const executablePath = await chromium.executablePath();
process.stdout.write(JSON.stringify({ executablePath, args: chromium.args }));
