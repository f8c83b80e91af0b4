/**
 * Routes the Stripe double's thin-event deliveries (to event destinations) into a test service that is not
 * listening on a port: each POST goes through supertest to the same path, with the same headers and raw body.
 */
import type { StripeStub } from './stripe-stub';
import type { TestService } from './test-service';

/** Makes `stub` deliver every thin event to `t`'s app; resolves each delivery with the app's HTTP status. */
export function deliverStripeEventsTo(stub: StripeStub, t: Pick<TestService, 'http'>): void {
  stub.deliver = async (url, body, headers) => {
    const res = await t.http.post(new URL(url).pathname).set(headers).send(body);
    return res.status;
  };
}
