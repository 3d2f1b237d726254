// JSON with object keys sorted. A plan read back from PostgreSQL's jsonb has its keys in jsonb's
// order (shorter keys first), not in the order the code built them: anything that hashes or
// compares parts of a plan must not depend on which of the two it was given.
export function sortedKeysJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
