/**
 * The app's marketplace declaration (`manifest.json` at the repository root): what it asks HighLevel for and
 * where HighLevel reaches it. Read and validated at boot; the OAuth request asks for exactly its scopes.
 * Scope names and webhook event names: HighLevel marketplace docs (Scopes; Webhook events). Which events and scopes it
 * lists is kept in agreement with the code by test/unit/manifest.test.ts (endpoints.ts, event-subscriptions.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const routePath = z.string().regex(/^\/[A-Za-z0-9/_-]*$/, 'must be a path starting with /');

/** The manifest's shape. */
export const manifestSchema = z.object({
  name: z.string().min(1).max(100),
  description: z.string().min(1).max(1000),
  distribution: z.object({ agency: z.boolean(), subAccount: z.boolean(), bulkInstall: z.boolean() }),
  scopes: z
    .array(z.string().regex(/^[a-z-]+(\/[a-z-]+)?(\.[a-z]+)+$/, 'is not a HighLevel scope name'))
    .min(1)
    .refine((scopes) => new Set(scopes).size === scopes.length, 'lists a scope twice'),
  oauth: z.object({ installPath: routePath, redirectPath: routePath }),
  webhooks: z.object({
    path: routePath,
    // The developer portal's event names: AppInstall, LCEmailStats, InboundMessage, ... (GoHighLevel/highlevel-api-docs toc.json).
    events: z
      .array(z.string().regex(/^[A-Z][A-Za-z]+$/, 'is not a HighLevel webhook event name'))
      .min(1)
      .refine((events) => new Set(events).size === events.length, 'lists an event twice'),
  }),
  customPage: z.object({ title: z.string().min(1), path: routePath, navigation: z.array(z.enum(['agency', 'sub-account'])).min(1) }),
  sso: z.object({ enabled: z.boolean(), sessionPath: routePath }),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** Where the manifest lives: the repository root. */
export const MANIFEST_PATH = path.join(__dirname, '..', '..', 'manifest.json');

/**
 * Reads and validates the manifest.
 * @throws Error naming the file and the first invalid fields.
 */
export function loadManifest(file = MANIFEST_PATH): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
