/** One line of a benchmark report. `ratio` compares against the baseline measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  ratio?: number;
}
