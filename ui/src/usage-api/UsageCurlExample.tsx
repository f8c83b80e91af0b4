/** How to post usage: a curl example of POST /api/v1/usage against this app's own origin. */
import { CopyButton } from './CopyButton';

/** The example command; `$MB_API_KEY` stands for a key (never filled in: keys are shown once). */
export function usageCurlCommand(origin: string, occurredAt: string): string {
  return `curl -X POST "${origin}/api/v1/usage" \\
  -H "Authorization: Bearer $MB_API_KEY" \\
  -H 'content-type: application/json' \\
  -d '{"locationId": "<sub-account id>", "metric": "ai_tokens",
       "quantity": 1830, "occurredAt": "${occurredAt}",
       "idempotencyKey": "agent-run-551"}'`;
}

/** The "Send usage" card. */
export function UsageCurlExample() {
  const command = usageCurlCommand(window.location.origin, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
  return (
    <section className="card" aria-labelledby="curl-title">
      <h2 id="curl-title">Send usage</h2>
      <p className="small">
        <code>POST /api/v1/usage</code> with a key, one event or <code>{'{"events": [...]}'}</code> with up to 1,000. An <code>idempotencyKey</code>{' '}
        posted again is a duplicate: nothing is billed twice.
      </p>
      <pre className="code-block" aria-label="Example request with curl" tabIndex={0}>
        {command}
      </pre>
      <div className="actions">
        <CopyButton text={command} label="Copy example" />
      </div>
      <p className="muted small">
        Answers <code>200</code> with each event <code>accepted</code>, <code>duplicate</code> or <code>conflict</code>; a batch with any invalid event
        is refused whole (<code>422</code>) and nothing is stored.
      </p>
    </section>
  );
}
