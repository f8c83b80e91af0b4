import { SegmentedMessage } from 'sms-segments-calculator';

/** How a text message is split for carrier billing. */
export interface SmsSegmentation {
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

/**
 * Counts carrier SMS segments per GSM-7 / UCS-2 rules (160/153 GSM-7 septets, 70/67 UCS-2 code units, escape
 * characters counted twice), using Twilio's maintained calculator (TwilioDevEd/message-segment-calculator).
 * An empty body still travels as one segment.
 */
export function countSmsSegments(body: string): SmsSegmentation {
  const message = new SegmentedMessage(body);
  return { segments: Math.max(1, message.segmentsCount), encoding: message.encodingName };
}
