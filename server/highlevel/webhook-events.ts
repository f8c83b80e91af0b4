/**
 * Zod schemas for the HighLevel webhook events Meterbridge acts on, in HighLevel's shapes.
 * Schemas are loose (unknown fields pass through, enums stay strings) so HighLevel adding a field or a message
 * type does not turn deliveries into errors; only what the metering and install logic reads is required.
 * Sources: HighLevel webhook docs for InboundMessage, OutboundMessage, VoiceAiCallEnd, INSTALL (AppInstall),
 * UNINSTALL (AppUninstall), LocationCreate, LocationUpdate and LCEmailStats (marketplace.gohighlevel.com/docs/webhook/*;
 * GoHighLevel/highlevel-api-docs `docs/webhook events/*.md`, whose examples are replayed verbatim by
 * test/integration/official-examples.test.ts).
 */
import { z } from 'zod';

const id = z.string().trim().min(1).max(200);
const isoDate = z.iso.datetime({ offset: true });
const optionalText = z.string().max(1_000_000).optional();

const messageFields = {
  locationId: id,
  messageId: id.optional(),
  /** SMS, Email, CALL, WhatsApp, Custom, FB, IG, GMB, Live_Chat, ... */
  messageType: z.string().min(1).max(100),
  /** TYPE_SMS, TYPE_CALL, TYPE_VOICEMAIL, TYPE_EMAIL, TYPE_WHATSAPP, TYPE_CUSTOM_PROVIDER_SMS, ... */
  messageTypeString: z.string().max(100).optional(),
  /**
   * HighLevel's own examples contradict the event type (an OutboundMessage SMS example says "inbound"), so the
   * event type decides the direction; this field is only kept on the record (normalise.ts).
   */
  direction: z.enum(['inbound', 'outbound']).optional(),
  body: optionalText,
  /** Email only: the service that sent it ("Leadconnector Gmail", "mailgun", "smtp", "custom": apps/conversations.json). */
  provider: z.string().max(200).optional(),
  /** With `dateAdded`, identifies a message that has no `messageId` (server/metering/message-key.ts). */
  conversationId: z.string().max(200).optional(),
  attachments: z.array(z.string().max(10_000)).max(1_000).optional(),
  /** Seconds. */
  callDuration: z.coerce.number().int().min(0).max(7 * 24 * 3600).optional(),
  /** pending, completed, answered, busy, no-answer, failed, canceled, voicemail. */
  callStatus: z.string().max(100).optional(),
  status: z.string().max(100).optional(),
  dateAdded: isoDate.optional(),
  timestamp: isoDate.optional(),
  webhookId: id.optional(),
};

/** A message the sub-account received (SMS, email, call, WhatsApp, ...). */
export const inboundMessageSchema = z.looseObject({ type: z.literal('InboundMessage'), ...messageFields });
/** A message the sub-account sent. */
export const outboundMessageSchema = z.looseObject({ type: z.literal('OutboundMessage'), ...messageFields });

/** A Voice AI agent's call ended; `duration` is in seconds. */
export const voiceAiCallEndSchema = z.looseObject({
  type: z.literal('VoiceAiCallEnd'),
  id: id.optional(),
  locationId: id,
  messageId: id.optional(),
  duration: z.coerce.number().min(0).max(7 * 24 * 3600),
  /** A test call from the agent builder: recorded, never billed. */
  trialCall: z.boolean().optional(),
  createdAt: isoDate.optional(),
  timestamp: isoDate.optional(),
  webhookId: id.optional(),
});

/**
 * The app was installed for an agency (possibly bulk) or one sub-account. HighLevel's documented schema and its three
 * examples (docs/webhook events/AppInstall.md) carry no `installType`; its SDK's type (@gohighlevel/api-client,
 * lib/webhook/webhook-manager.ts `InstallWebhookRequest`) lists one, so live payloads may. See `installKind`.
 */
export const installSchema = z.looseObject({
  type: z.literal('INSTALL'),
  appId: id,
  companyId: id,
  locationId: id.optional(),
  installType: z.enum(['Company', 'Location']).optional(),
  companyName: z.string().max(1000).optional(),
  timestamp: isoDate.optional(),
  webhookId: id.optional(),
});
export type InstallEvent = z.infer<typeof installSchema>;

/**
 * Whether an INSTALL is for one sub-account (`Location`) or the agency (`Company`): `installType` when HighLevel sends
 * it, else `Location` exactly when a `locationId` is present (AppInstall.md: the agency example has none, the two
 * location examples have one).
 */
export function installKind(event: Pick<InstallEvent, 'installType' | 'locationId'>): 'Company' | 'Location' {
  return event.installType ?? (event.locationId ? 'Location' : 'Company');
}

/** The app was removed from a sub-account (locationId) or an agency (companyId). */
export const uninstallSchema = z
  .looseObject({
    type: z.literal('UNINSTALL'),
    appId: id,
    companyId: id.optional(),
    locationId: id.optional(),
    timestamp: isoDate.optional(),
    webhookId: id.optional(),
  })
  .refine((e) => e.companyId || e.locationId, { message: 'UNINSTALL needs a companyId or a locationId' });

const locationChangeFields = {
  id,
  companyId: id,
  name: z.string().max(1000).optional(),
  email: z.string().max(1000).optional(),
  timestamp: isoDate.optional(),
  webhookId: id.optional(),
};
/** A sub-account was created in the agency. */
export const locationCreateSchema = z.looseObject({ type: z.literal('LocationCreate'), ...locationChangeFields });
/** A sub-account's details changed. */
export const locationUpdateSchema = z.looseObject({ type: z.literal('LocationUpdate'), ...locationChangeFields });

/**
 * One LC Email event (delivered, opened, clicked, failed, ...; campaigns and bulk email included), from HighLevel's
 * email service (docs/webhook events/LCEmailStats.md; "Available only to Location Level Apps"). `webhookPayload` is
 * the email service's event: `event`, `id`, `timestamp` (Unix seconds), `recipient`, `message.headers`, ...
 */
export const lcEmailStatsSchema = z.looseObject({
  type: z.literal('LCEmailStats'),
  locationId: id,
  companyId: id.optional(),
  webhookPayload: z.looseObject({
    event: z.string().min(1).max(100),
    id: z.string().max(200).optional(),
    /** Unix seconds. */
    timestamp: z.number().min(0).max(1e11).optional(),
    recipient: z.string().max(1000).optional(),
    /** `is-test-mode`, `is-system-test`, ...: booleans. */
    flags: z.record(z.string(), z.unknown()).optional(),
  }),
  timestamp: isoDate.optional(),
  webhookId: id.optional(),
});

/** Every event type Meterbridge handles, by its `type`; anything else is acknowledged and ignored. */
export const eventSchemas = {
  InboundMessage: inboundMessageSchema,
  OutboundMessage: outboundMessageSchema,
  VoiceAiCallEnd: voiceAiCallEndSchema,
  INSTALL: installSchema,
  UNINSTALL: uninstallSchema,
  LocationCreate: locationCreateSchema,
  LocationUpdate: locationUpdateSchema,
  LCEmailStats: lcEmailStatsSchema,
} as const;

export type HandledEventType = keyof typeof eventSchemas;
export type MessageEvent = z.infer<typeof inboundMessageSchema> | z.infer<typeof outboundMessageSchema>;
export type VoiceAiCallEndEvent = z.infer<typeof voiceAiCallEndSchema>;
export type LcEmailStatsEvent = z.infer<typeof lcEmailStatsSchema>;
/** A parsed, handled activity event. */
export type ActivityEvent = { [K in HandledEventType]: z.infer<(typeof eventSchemas)[K]> }[HandledEventType];

/** Event types that change installations and sub-accounts (server/highlevel/install-lifecycle.ts). */
export const LIFECYCLE_EVENT_TYPES: ReadonlySet<string> = new Set(['INSTALL', 'UNINSTALL', 'LocationCreate', 'LocationUpdate']);

/** True when Meterbridge has a schema (and a handler) for this `type`. */
export function isHandledEventType(type: unknown): type is HandledEventType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(eventSchemas, type);
}
