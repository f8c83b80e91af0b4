/**
 * Request and response schema of the AI-senders routes (server/ai/routes.ts). Zod only: the page takes its types
 * from here (ui/src/api-types.ts).
 */
import { z } from 'zod';

/** The agency's markers: `user:<userId>`, `provider:<conversationProviderId>`, `source:<source>`, `unattended`. */
export const aiSendersBody = z.object({
  markers: z.array(z.string().max(210)).max(100).describe('user:<userId>, provider:<conversationProviderId>, source:<source> or unattended'),
});

