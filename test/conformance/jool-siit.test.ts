// Replays Jool's 124 graybox SIIT cases through `bin/clatbar translate`, one CLI run per case,
// comparing every emitted packet byte for byte except the offsets a case lists (random IPv4 IDs
// and the checksums they affect). The data is carried in the repository:
// test/fixtures/jool-siit/ (Jool's packets, GPL-2.0; see its README.md for source and licence).
// ../shared/conformance/run-jool-siit.mjs replays the same manifest from its own copy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { readPcap, writePcap } from '../../src-main/engine/siit/pcap.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const data = join(root, 'test', 'fixtures', 'jool-siit');
const run = promisify(execFile);

const Manifest = z.object({
  source: z.string(),
  cases: z.array(
    z.object({
      name: z.string(),
      direction: z.enum(['4to6', '6to4', '4to4', '6to6']),
      input: z.string(),
      expected: z.array(z.string()),
      ignoreOffsets: z.array(z.number().int().nonnegative()),
      config: z.record(z.string(), z.unknown()),
    }),
  ),
});
const manifest = Manifest.parse(JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8')));

/** Where got differs from want outside the ignored offsets, in words; null when it does not. */
function difference(got: Uint8Array, want: Uint8Array, ignore: ReadonlySet<number>): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i] && !ignore.has(i)) bad.push(i);
  return bad.length ? `bytes differ at offsets ${bad.slice(0, 12).join(',')}` : null;
}

test('the manifest holds all 124 cases, and every packet it names is in the repository', () => {
  assert.equal(manifest.cases.length, 124);
  for (const c of manifest.cases)
    for (const f of [c.input, ...c.expected]) assert.ok(readFileSync(join(data, f)).length >= 20, f);
});

describe('Jool SIIT graybox cases through clatbar translate', { concurrency: 4 }, () => {
  for (const c of manifest.cases) {
    test(`${c.name} [${c.direction}]`, async () => {
      const work = await mkdtemp(join(tmpdir(), `clatbar-jool-${process.pid}-`));
      try {
        const cfg = join(work, 'case.json');
        const inp = join(work, 'in.pcap');
        const out = join(work, 'out.pcap');
        await writeFile(cfg, JSON.stringify(c.config));
        await writeFile(inp, writePcap([{ data: await readFile(join(data, c.input)) }]));
        await run(join(root, 'bin', 'clatbar'), ['translate', '--config', cfg, '--in', inp, '--out', out], {
          timeout: 30_000,
        });
        const got = readPcap(await readFile(out)).packets.map((p) => p.data);
        const want = await Promise.all(c.expected.map((e) => readFile(join(data, e))));
        assert.equal(got.length, want.length, `emitted ${got.length} packet(s), expected ${want.length}`);
        const ignore = new Set(c.ignoreOffsets);
        for (let i = 0; i < want.length; i++)
          assert.equal(difference(got[i], want[i], ignore), null, `packet ${i + 1}`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});
