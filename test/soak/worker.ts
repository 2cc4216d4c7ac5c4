// Runs the translator or DNS fuzz stage in a worker thread, so it goes on beside the lab stages
// (whose timing it must not block) and an exception inside it is counted, not fatal to the run.
import { parentPort, workerData } from 'node:worker_threads';
import { translateStage } from './stage-translate.js';
import { dnsStage } from './stage-dns.js';

const { stage, opts } = workerData as { stage: 'translate' | 'dns'; opts: Record<string, unknown> };
const say = (line: string) => parentPort!.postMessage({ say: line });
const deadline = Number(opts.deadline ?? Infinity);
// An exception out of a stage is its verdict, posted like a result (never swallowed).
let result;
try {
  result =
    stage === 'translate'
      ? await translateStage({
          packets: Number(opts.packets),
          seed: Number(opts.seed),
          single: Boolean(opts.single),
          say,
          deadline,
        })
      : await dnsStage({ messages: Number(opts.messages), seed: Number(opts.seed), say, deadline });
} catch (err) {
  const why = `the stage threw: ${(err as Error).stack ?? String(err)}`;
  result = { stage, ok: false, summary: why, ms: 0, data: { threw: why } };
}
parentPort!.postMessage({ result });
