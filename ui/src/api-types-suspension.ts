/**
 * The suspension API's types, taken from the server's contract (server/suspension/schemas.ts) with `import type`: the
 * schemas are never bundled, only their inferred shapes. Times are ISO 8601 strings.
 */
import type { z } from 'zod';
import type * as s from '../../server/suspension/schemas';

/** The agency's policy, with whether its HighLevel grant carries the pause call's scope. */
export type SuspensionSettings = z.infer<typeof s.suspensionSettingsResponse>;
export type SuspensionSettingsInput = z.infer<typeof s.suspensionSettingsRequest>;
export type SuspensionPolicy = SuspensionSettingsInput['policy'];
/** One sub-account's suspension (in force, or the last one). */
export type SuspensionState = z.infer<typeof s.suspensionSchema>;
export type SubAccountSuspension = z.infer<typeof s.subAccountSuspensionResponse>;
export type SuspensionList = z.infer<typeof s.suspensionListResponse>;
