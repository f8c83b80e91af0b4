/**
 * Request and response schemas of signing in (`POST /api/session`). Zod only (no node, drizzle or express import):
 * the page takes its types from here (ui/src/api-types.ts).
 */
import { z } from 'zod';

/** `POST /api/session` body: HighLevel's encrypted SSO payload. */
export const sessionRequest = z.object({ payload: z.string().min(1).max(16_384) });
/** `POST /api/session` answer: the bearer token, its expiry (ISO 8601), the demo flag and the user. */
export const sessionResponse = z.object({
  token: z.string(),
  expiresAt: z.iso.datetime(),
  /** True when the server runs `npm run demo` (simulated HighLevel and Stripe): the page shows a demo banner. */
  demo: z.boolean(),
  user: z.object({
    userId: z.string(),
    companyId: z.string(),
    type: z.enum(['agency', 'location']),
    role: z.string(),
    activeLocation: z.string().nullable(),
    userName: z.string().optional(),
  }),
});
