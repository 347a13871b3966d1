/** One measured number in the benchmark table. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** What we aim for, as text (e.g. ">= 2,000,000"). */
  target?: string | undefined;
  /** The same-process baseline this value is compared with, when there is one. */
  baseline?: { name: string; value: number } | undefined;
  /** value / baseline.value (or the inverse, as the metric says). */
  ratio?: number | undefined;
}

export interface BenchSection {
  name: string;
  rows: BenchRow[];
  notes?: string[] | undefined;
  /** When the section was measured (sections kept from an earlier run keep their own date). */
  date?: string | undefined;
  quick?: boolean | undefined;
}

export type BenchFn = (options: { quick: boolean }) => Promise<BenchSection>;
