// Module resolution hook (node:module register): `electron` resolves to fake-electron.js, so
// main.ts can be imported under plain Node. Used by test/unit/app/main.test.ts only.
const fake = new URL('./fake-electron.js', import.meta.url).href;

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next) {
  if (specifier === 'electron') return { url: fake, shortCircuit: true };
  return next(specifier, context);
}
