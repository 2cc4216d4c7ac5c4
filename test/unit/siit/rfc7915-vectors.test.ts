// Byte-exact vectors from test/fixtures/siit/gen.py (scapy), one test per case, named by the
// RFC 7915 section (or RFC 7757) whose rule it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, hex, loadVectors, run, translator } from './helpers.js';

for (const v of loadVectors()) {
  const section = v.section === '7757' ? 'RFC 7757 §4.2' : `RFC 7915 §${v.section}`;
  test(`${section} [${v.direction}]: ${v.name}`, () => {
    const r = run(translator(v.config), hex(v.input));
    assert.equal(r.verdict, v.verdict, `verdict (reason ${r.reason})`);
    assert.equal(r.reason, v.reason);
    assert.equal(r.out.length, v.expected.length, 'number of emitted packets');
    v.expected.forEach((e, i) => {
      const want = hex(e);
      const d = diff(r.out[i], want, v.ignore);
      assert.ok(d !== null, `packet ${i + 1}: length ${r.out[i].length}, expected ${want.length}`);
      assert.deepEqual(
        d,
        [],
        `packet ${i + 1} differs at ${d!.join(',')}\n got ${Buffer.from(r.out[i]).toString('hex')}\nwant ${e}`,
      );
    });
  });
}
