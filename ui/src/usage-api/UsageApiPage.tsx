/**
 * The agency's developer screen for the usage API: its API keys (created — shown once —, listed, revoked), the
 * custom metrics usage can be posted for, how to post usage with curl, and who writes the agency's AI messages
 * (the other usage HighLevel does not report as such).
 */
import { AiSendersCard } from './AiSenders';
import { ApiKeys } from './ApiKeys';
import { CustomMetrics } from './CustomMetrics';
import { UsageCurlExample } from './UsageCurlExample';
import { Editing } from '../components/permissions';

/** The "Usage API" section of the agency view. */
export function UsageApiPage() {
  return (
    <>
      <h1>Usage API</h1>
      <p className="lead">
        Send usage HighLevel does not report — your own AI agent, a voice vendor, anything you resell — to Meterbridge. It is billed by the same
        prices and thresholds as HighLevel usage.
      </p>
      <Editing>
        <ApiKeys />
        <CustomMetrics />
      </Editing>
      <UsageCurlExample />
      <Editing>
        <AiSendersCard />
      </Editing>
    </>
  );
}
