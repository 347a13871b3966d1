export interface Keyed<T> {
  key: string;
  item: T;
}

/** A descending stream of keyed items, read `n` at a time after a key. */
export interface Source<T> {
  fetch(after: string | null, n: number): Promise<{ items: Keyed<T>[]; more: boolean }>;
}

/**
 * The `n` highest items of several descending sources after their positions (a k-way merge). `exhausted` is
 * true when every source is known to have nothing left beyond what was picked.
 */
export async function mergeDescending<T>(
  sources: readonly Source<T>[],
  after: readonly (string | null)[],
  n: number,
): Promise<{ picked: (Keyed<T> & { source: number })[]; after: (string | null)[]; exhausted: boolean }> {
  const pages = await Promise.all(sources.map((s, i) => s.fetch(after[i] ?? null, n)));
  const all = pages.flatMap((p, source) => p.items.map((it) => ({ ...it, source })));
  all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : a.source - b.source));
  const picked = all.slice(0, n);
  const next = [...after];
  const pickedPer = new Array<number>(sources.length).fill(0);
  for (const p of picked) {
    next[p.source] = p.key;
    pickedPer[p.source]!++;
  }
  const exhausted = pages.every((p, i) => !p.more && pickedPer[i] === p.items.length);
  return { picked, after: next, exhausted };
}
