import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  // Loaded from file:// by Electron, so every asset URL must be relative.
  base: './',
  plugins: [svelte()],
  build: { outDir: fileURLToPath(new URL('../build/renderer', import.meta.url)), emptyOutDir: true },
});
