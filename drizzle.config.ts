import { defineConfig } from 'drizzle-kit';

/** drizzle-kit reads this to generate SQL migrations from `models/schema.ts` (`npm run db:generate`). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './models/schema.ts',
  out: './models/migrations',
});
