import { SegmentedMessage } from 'sms-segments-calculator';
import UnicodeToGsm from 'sms-segments-calculator/dist/libs/UnicodeToGSM';

/** How a text message is split for carrier billing. */
export interface SmsSegmentation {
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

/** Septets in one GSM-7 message without a user data header, and per part of a concatenated one (3GPP TS 23.040). */
const SINGLE_GSM7 = 160;
const PART_GSM7 = 153;

/**
 * Counts carrier SMS segments per GSM-7 / UCS-2 rules (160/153 GSM-7 septets, 70/67 UCS-2 code units, escape
 * characters counted twice), using Twilio's maintained calculator (TwilioDevEd/message-segment-calculator).
 * An empty body still travels as one segment.
 *
 * One shortcut of our own, for speed: a body made only of characters from the GSM-7 basic set (the calculator's
 * own table, one septet each) is 1 segment up to 160 characters, else ⌈length / 153⌉ — the calculator's answer for
 * such text, without its per-character objects and grapheme splitting, which cost ~0.4 ms per message here and
 * were the intake's largest single CPU cost (`npm run bench -- --profile`). Anything else (extension characters,
 * Unicode, emoji) goes to the calculator. test/unit/sms-segments.test.ts checks both agree on random text.
 */
export function countSmsSegments(body: string): SmsSegmentation {
  if (isBasicGsm7(body)) return { segments: body.length <= SINGLE_GSM7 ? 1 : Math.ceil(body.length / PART_GSM7), encoding: 'GSM-7' };
  const message = new SegmentedMessage(body);
  return { segments: Math.max(1, message.segmentsCount), encoding: message.encodingName };
}

/** True when every UTF-16 code unit of `text` is one septet of the GSM-7 basic character set. */
function isBasicGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (UnicodeToGsm[text.charCodeAt(i)]?.length !== 1) return false;
  }
  return true;
}
