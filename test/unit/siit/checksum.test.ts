// RFC 1071 sums and RFC 1624 incremental updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjust, adjustPartial, finish, fold, sum16 } from '../../../src-main/engine/siit/checksum.js';

test('RFC 1071 §3: the worked example sums to 0xddf2', () => {
  const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(fold(sum16(data, 0, data.length, 0)), 0xddf2);
});

test('RFC 1071: an odd byte count pads the last byte with zero', () => {
  assert.equal(fold(sum16(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3, 0)), 0x1234 + 0x5600);
});

// A small deterministic generator, so failures reproduce.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

test('RFC 1624 eqn. 3: incremental update equals a full recompute', () => {
  const r = rng(1624);
  for (let n = 0; n < 2000; n++) {
    const len = 2 + 2 * Math.floor(r() * 40);
    const data = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
    const before = finish(sum16(data, 0, len, 0));
    const at = 2 * Math.floor(r() * (len / 2));
    const oldWord = (data[at] << 8) | data[at + 1];
    const newWord = Math.floor(r() * 65536);
    data[at] = newWord >> 8;
    data[at + 1] = newWord & 255;
    const full = finish(sum16(data, 0, len, 0));
    const inc = adjust(before, oldWord, newWord);
    // 0x0000 and 0xffff are the same number in one's complement (RFC 1624 §3).
    assert.equal(inc % 0xffff, full % 0xffff, `case ${n}`);
  }
});

test('RFC 1624: a wrong checksum stays wrong by the same amount', () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const good = finish(sum16(data, 0, 8, 0));
  const badField = (good - 1) & 0xffff;
  const after = adjust(badField, 0x0102, 0xabcd);
  data[0] = 0xab;
  data[1] = 0xcd;
  const goodAfter = finish(sum16(data, 0, 8, 0));
  assert.equal((goodAfter - after + 0x10000) % 0x10000, 1);
});

test('partial (pseudo-header) checksum fields move with the opposite sign', () => {
  const pseudo = 0x1234 + 0x5678;
  const replaced = 0x9abc + 0x0def;
  assert.equal(adjustPartial(fold(pseudo), pseudo, replaced), fold(replaced));
});
