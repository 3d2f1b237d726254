// What a worker thread evaluates to load one of cutover's modules.

/**
 * The code a thread evaluates to load module `file`: through tsx when running from the TypeScript
 * sources (tsx, vitest), which a new thread does not inherit.
 */
export function threadEntryCode(file: string): string {
  return file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});` : `require(${JSON.stringify(file)});`;
}
