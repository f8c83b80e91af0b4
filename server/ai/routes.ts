/**
 * The AI-senders part of the settings API (agency users): which senders write the agency's AI messages, so their
 * outbound messages count as `ai_messages` and `ai_tokens` (server/metering/ai-messages.ts, README "AI usage").
 */
import { defineRoute, type ApiRoute } from '../http/api-route';
import type { AgencyAiSenders } from './agency-ai-senders';
import { aiSendersBody } from './schemas';

/** Every AI-senders route. */
export function aiSendersRoutes(deps: { aiSenders: AgencyAiSenders }): ApiRoute<any, any, any, any>[] {
  return [
    defineRoute({
      method: 'get', path: '/api/ai-senders', tag: 'AI usage', access: 'agency',
      summary: 'Who writes the agency’s AI messages (on top of the deployment’s AI_MESSAGE_SENDERS)',
      response: aiSendersBody, errors: ['not_found'],
      handler: ({ caller }) => deps.aiSenders.get(caller!.companyId),
    }),
    defineRoute({
      method: 'put', path: '/api/ai-senders', tag: 'AI usage', access: 'agency',
      summary: 'Set who writes the agency’s AI messages; their outbound texts count as ai_messages and ai_tokens',
      body: aiSendersBody, response: aiSendersBody, errors: ['invalid_marker', 'not_found'],
      handler: ({ caller, body }) => deps.aiSenders.set(caller!.companyId, body.markers),
    }),
  ];
}
