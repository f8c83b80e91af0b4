/**
 * HighLevel's custom-page SSO, the page's side: ask the parent window (HighLevel) for the user, receive its
 * encrypted payload, and exchange it at POST /api/session. The payload is only meaningful to our server (it is
 * encrypted with the app's Shared Secret), so the page accepts it from its parent window whatever the parent's
 * origin (white-label domains vary); who may frame the page at all is the server's CSP frame-ancestors.
 */
import { exchangeSsoPayload, type Session } from './api';

/** Why no session could be had. */
export type SsoFailure = 'outside-highlevel' | 'no-answer';

/** Thrown by `requestUserData` when the page is not framed, or the parent never answers. */
export class SsoError extends Error {
  constructor(readonly reason: SsoFailure) {
    super(reason === 'outside-highlevel' ? 'This page is not open inside HighLevel.' : 'HighLevel did not send the user details.');
  }
}

/** True when the page is framed (inside HighLevel, or a host page playing it). */
export const isFramed = (): boolean => {
  try {
    return window.parent !== window;
  } catch {
    return true;
  }
};

/**
 * Posts `{ message: 'REQUEST_USER_DATA' }` to the parent and resolves with the payload of its
 * `REQUEST_USER_DATA_RESPONSE`.
 * @throws SsoError
 */
export function requestUserData(timeoutMs = 10_000): Promise<string> {
  if (!isFramed()) return Promise.reject(new SsoError('outside-highlevel'));
  return new Promise((resolve, reject) => {
    const onMessage = (event: MessageEvent) => {
      if (event.source !== window.parent) return;
      const data = event.data as { message?: unknown; payload?: unknown } | null;
      if (data?.message !== 'REQUEST_USER_DATA_RESPONSE' || typeof data.payload !== 'string') return;
      cleanup();
      resolve(data.payload);
    };
    const timer = window.setTimeout(() => {
      cleanup();
      reject(new SsoError('no-answer'));
    }, timeoutMs);
    const cleanup = () => {
      window.clearTimeout(timer);
      window.removeEventListener('message', onMessage);
    };
    window.addEventListener('message', onMessage);
    window.parent.postMessage({ message: 'REQUEST_USER_DATA' }, '*');
  });
}

/** The whole sign-in: user data from HighLevel, exchanged for a session. */
export async function signIn(): Promise<Session> {
  return exchangeSsoPayload(await requestUserData());
}
