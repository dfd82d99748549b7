/**
 * The NIfTI reader under thousands of seeded mutations and truncations of a valid file: every read returns a
 * volume or throws an Error naming the file; none throws anything else, none takes long, none gets past the
 * declared memory limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_LIMIT_MB, runNiftiFuzz } from '../helpers/niftiFuzzRun';

test('NIfTI fuzz: 3000 mutated or truncated files x {image, labels}: a value or a named Error, bounded time and memory', { timeout: 60_000 }, () => {
  const t0 = Date.now();
  const r = runNiftiFuzz(20261128, 3000);
  assert.equal(r.tried, 6000);
  assert.deepEqual(r.crashes.slice(0, 10), [], `${r.crashes.length} crashes`);
  assert.equal(r.values + r.namedErrors, r.tried);
  // the mutations must actually reach both outcomes and the limit, or the fuzzer tests nothing
  assert.ok(r.values > 300 && r.namedErrors > 1500, JSON.stringify(r));
  assert.ok(r.limitRefusals > 50, `limit refusals ${r.limitRefusals}`);
  assert.ok(r.slowestMs < 2000, `slowest read ${r.slowestMs} ms`);
  // the file is ~1 KB and the limit 1 MB: the gzip step bound (16 KB compressed) is the most a read may inflate
  assert.ok(r.maxArrayBufferGrowth < 64 * 1048576, `array buffers grew by ${r.maxArrayBufferGrowth} bytes (limit ${FUZZ_LIMIT_MB} MB)`);
  assert.ok(Date.now() - t0 < 60_000);
  console.log(`niftiFuzz: ${r.tried} reads, ${r.values} values, ${r.namedErrors} named errors (${r.limitRefusals} by the ${FUZZ_LIMIT_MB} MB limit), ${r.crashes.length} crashes, slowest ${r.slowestMs.toFixed(1)} ms`);
});
