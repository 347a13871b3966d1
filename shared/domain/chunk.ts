/** Split into consecutive chunks of at most `size` items (DynamoDB batch calls, ingest batches of the demo). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
