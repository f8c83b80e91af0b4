/**
 * A jest reporter that prints what the reliability suite tried and found, from the figures each test appended to
 * test-results/reliability.jsonl during the run (see ./figures.ts). Plain CommonJS: jest loads reporters untransformed.
 */
const fs = require('node:fs');
const path = require('node:path');

class ReliabilitySummaryReporter {
  constructor(globalConfig) {
    this.file = path.join(globalConfig.rootDir, 'test-results', 'reliability.jsonl');
  }
  onRunStart() {
    fs.rmSync(this.file, { force: true });
  }
  onRunComplete() {
    if (!fs.existsSync(this.file)) return;
    const lines = fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (lines.length === 0) return;
    const out = ['', 'Reliability summary (what was tried, what was found):'];
    for (const { suite, figures } of lines) {
      out.push(`  ${suite}: ${Object.entries(figures).map(([k, v]) => `${k}: ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`).join(', ')}`);
    }
    process.stdout.write(out.join('\n') + '\n');
  }
}
module.exports = ReliabilitySummaryReporter;
