/**
 * Jest global set-up, once per run before any worker starts: when the machine has no Debian Chromium (and no
 * CHROMIUM_PATH), unpack the Chromium shipped inside @sparticuz/chromium now, so two workers never unpack it into
 * the same temp folder at once (test/browser/support/browser.ts then finds it there). Prints which Chromium the
 * browser tests use.
 */
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async function globalSetup() {
  if (process.env.CHROMIUM_PATH) return void console.log(`\nbrowser tests: Chromium at CHROMIUM_PATH=${process.env.CHROMIUM_PATH}`);
  if (existsSync('/usr/bin/chromium')) return void console.log("\nbrowser tests: Debian's Chromium (/usr/bin/chromium)");
  const script = path.join(__dirname, '..', 'browser', 'support', 'packaged-chromium.mjs');
  const { executablePath } = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' }));
  console.log(`\nbrowser tests: the Chromium shipped in @sparticuz/chromium (${executablePath})`);
};
