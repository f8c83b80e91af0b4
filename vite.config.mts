/**
 * Vite builds the settings page (ui/) into ui/dist, served by the service at /app (server/ui/ui-router.ts).
 * Two pages: index.html (the app HighLevel frames) and dev.html (a development host that plays HighLevel's parent
 * with a simulated user; the server serves it only outside production).
 * `npx vite` runs a dev server for UI work, proxying /api to a service on :3000.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const ui = (file: string) => fileURLToPath(new URL(`./ui/${file}`, import.meta.url));

export default defineConfig(({ command }) => {
  // `vite build` always bundles React's production build, even from a shell where NODE_ENV is development or test.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    root: ui(''),
    base: '/app/',
    plugins: [react()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      // The chart library is loaded on demand (React.lazy) in its own chunk; it is the only large one.
      chunkSizeWarningLimit: 600,
      rolldownOptions: { input: { main: ui('index.html'), dev: ui('dev.html') } },
    },
    server: { proxy: { '/api': 'http://localhost:3000' } },
  };
});
