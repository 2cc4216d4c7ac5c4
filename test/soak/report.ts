// What every soak stage hands back, the closing table and the JSON file.
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';

export interface StageResult {
  stage: string;
  ok: boolean;
  /** One line: what it did and what it found. */
  summary: string;
  ms: number;
  /** Everything measured, for the JSON. */
  data: Record<string, unknown>;
}

export function table(results: StageResult[]): string {
  const rows = results.map((r) => [
    r.stage,
    r.ok ? 'PASS' : 'FAIL',
    `${(r.ms / 1000).toFixed(1)} s`,
    r.summary,
  ]);
  const head = ['stage', 'verdict', 'time', 'what happened'];
  const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`;
  return [line(head), line(w.map((n) => '-'.repeat(n)).concat('-'.repeat(13))), ...rows.map(line)].join('\n');
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
/** The commit the run started from (read when the run loads this module, not at its end). */
const COMMIT = commit();

export function writeJson(
  file: string,
  preset: string,
  argv: string[],
  results: StageResult[],
  startedAt: Date,
): void {
  const doc = {
    tool: 'npm run soak',
    argv,
    preset,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
    },
    commit: COMMIT,
    ok: results.every((r) => r.ok),
    stages: results,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
