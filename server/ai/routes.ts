/**
 * The AI-senders part of the settings API (agency users): which senders write the agency's AI messages, so their
 * outbound messages count as `ai_messages` and `ai_tokens` (server/metering/ai-messages.ts, README "AI usage").
 */
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route';
import type { AgencyAiSenders } from './agency-ai-senders';

/** The agency's markers: `user:<userId>`, `provider:<conversationProviderId>`, `source:<source>`, `unattended`. */
export const aiSendersBody = z.object({
  markers: z.array(z.string().max(210)).max(100).describe('user:<userId>, provider:<conversationProviderId>, source:<source> or unattended'),
});

/** Every AI-senders route. */
export function aiSendersRoutes(deps: { aiSenders: AgencyAiSenders }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/ai-senders', tag: 'AI usage', access: 'agency',
      summary: 'Who writes the agency’s AI messages (on top of the deployment’s AI_MESSAGE_SENDERS)',
      response: aiSendersBody,
      handler: ({ caller }) => deps.aiSenders.get(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/ai-senders', tag: 'AI usage', access: 'agency',
      summary: 'Set who writes the agency’s AI messages; their outbound texts count as ai_messages and ai_tokens',
      body: aiSendersBody, response: aiSendersBody,
      handler: ({ caller, body }) => deps.aiSenders.set(caller!.companyId, body.markers),
    }),
  ];
}
