/**
 * The small HTML pages a person sees at the end of the install flow. Every dynamic value is HTML-escaped.
 */

/** Escapes text for HTML element and attribute content. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Meterbridge</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f6f7f9; color: #1f2933; margin: 0; }
  main { max-width: 34rem; margin: 12vh auto; background: #fff; border-radius: 12px; padding: 2rem 2.25rem;
         box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
  p { line-height: 1.5; }
  a.button { display: inline-block; background: #155eef; color: #fff; padding: .6rem 1rem; border-radius: 8px; text-decoration: none; }
  .detail { color: #52606d; font-size: .9rem; }
</style></head>
<body><main>${body}</main></body></html>`;
}

/** Shown after a successful install. */
export function installedPage(input: { agencyName: string | null; userType: 'Company' | 'Location'; subAccounts: number; settingsUrl: string }): string {
  const who = input.agencyName ? ` for ${escapeHtml(input.agencyName)}` : '';
  const scope =
    input.userType === 'Company'
      ? `<p>Installed for the agency. ${input.subAccounts} sub-account${input.subAccounts === 1 ? '' : 's'} found so far; more appear as they install the app.</p>`
      : '<p>Installed for this sub-account.</p>';
  return page(
    'Installed',
    `<h1>Meterbridge is installed${who}</h1>${scope}
<p>Next: connect your Stripe account and choose what to bill, on the Meterbridge page inside HighLevel.</p>
<p><a class="button" href="${escapeHtml(input.settingsUrl)}">Open Meterbridge settings</a></p>`,
  );
}

/** Shown when the install did not complete; `detail` is HighLevel's own message when there is one. */
export function installFailedPage(input: { title: string; explanation: string; detail?: string; retryUrl: string }): string {
  const detail = input.detail ? `<p class="detail">HighLevel said: ${escapeHtml(input.detail)}</p>` : '';
  return page(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1><p>${escapeHtml(input.explanation)}</p>${detail}
<p>Nothing was saved. <a href="${escapeHtml(input.retryUrl)}">Start the installation again</a> or install Meterbridge from the HighLevel marketplace.</p>`,
  );
}
