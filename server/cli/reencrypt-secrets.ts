/**
 * `npm run secrets:reencrypt`: re-seals every stored secret with the current ENCRYPTION_KEY (the old key must be
 * in ENCRYPTION_KEY_PREVIOUS), against the database the environment names. Prints the counts; exit 0 on success.
 */
import { openDatabase } from '../../models/database';
import { loadConfig } from '../config';
import { createSecretBox } from '../crypto/secret-box';
import { reencryptSecrets } from '../crypto/reencrypt-secrets';

async function run(): Promise<number> {
  const config = loadConfig(process.env, (message) => console.warn(message));
  const database = await openDatabase(config.database);
  try {
    const counts = await reencryptSecrets(database.db, createSecretBox(config.encryptionKey, config.previousEncryptionKeys));
    for (const [column, n] of Object.entries(counts)) console.log(`${column}: ${n} re-sealed`);
    return 0;
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  run().then(
    (code) => process.exit(code),
    (err) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
