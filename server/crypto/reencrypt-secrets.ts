/**
 * Key rotation, second half: after ENCRYPTION_KEY becomes the new key and the old one moves to
 * ENCRYPTION_KEY_PREVIOUS, every secret still sealed with an old key is opened and sealed again with the new one.
 * Runs as a scheduled job (cheap when there is nothing to do) and as `npm run secrets:reencrypt`; once it reports
 * 0 remaining, ENCRYPTION_KEY_PREVIOUS can be removed.
 */
import { sql } from 'drizzle-orm';
import { selectRows, type Database } from '../../models/database';
import type { SecretBox } from './secret-box';

/** Every column that holds a sealed secret, by table and primary key. */
const SEALED_COLUMNS = [
  { table: 'agencies', key: 'company_id', column: 'stripe_secret_key' },
  { table: 'agencies', key: 'company_id', column: 'stripe_webhook_secret' },
  { table: 'agencies', key: 'company_id', column: 'stripe_event_destination_secret' },
  { table: 'installations', key: 'id', column: 'access_token' },
  { table: 'installations', key: 'id', column: 'refresh_token' },
  { table: 'alert_settings', key: 'company_id', column: 'webhook_secret' },
] as const;

/**
 * Re-seals every value not sealed with the current key, one row per transaction-free update (each is atomic).
 * @returns how many values were re-sealed, per column.
 * @throws SecretDecryptionError when a value was sealed with a key that is no longer configured at all.
 */
export async function reencryptSecrets(db: Database, box: SecretBox): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, key, column } of SEALED_COLUMNS) {
    const rows = await selectRows<{ id: string; value: string }>(
      db,
      sql`select ${sql.identifier(key)}::text as id, ${sql.identifier(column)} as value from ${sql.identifier(table)} where ${sql.identifier(column)} is not null`,
    );
    let resealed = 0;
    for (const row of rows) {
      if (!box.needsReseal(row.value)) continue;
      const fresh = box.seal(box.open(row.value));
      // Compare-and-set: a value changed meanwhile (a token refresh) is already sealed with the current key.
      await db.execute(
        sql`update ${sql.identifier(table)} set ${sql.identifier(column)} = ${fresh}
            where ${sql.identifier(key)}::text = ${row.id} and ${sql.identifier(column)} = ${row.value}`,
      );
      resealed += 1;
    }
    counts[`${table}.${column}`] = resealed;
  }
  return counts;
}
