import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable, formatValue, latencyFigure, rateFigure } from './report.ts';

describe('report', () => {
  it('expresses rates as Tresor/ceiling and latencies as ceiling/Tresor', () => {
    assert.equal(rateFigure('a', 'A', 'req/s', 9800, { label: 'bare', value: 19600 }).ratio, 0.5);
    assert.equal(latencyFigure('b', 'B', 4, { label: 'raw', value: 1 }).ratio, 0.25);
  });

  it('formats rates with thousands separators and latencies with three significant digits', () => {
    assert.equal(formatValue(21000.4, 'req/s'), '21,000 req/s');
    assert.equal(formatValue(1.23456, 'ms'), '1.23 ms');
    assert.equal(formatValue(506.2, 'ms'), '506 ms');
  });

  it('prints every figure beside its ceiling and ratio, and a skipped row with its reason', () => {
    const table = formatTable([
      {
        title: '2. Health',
        rows: [
          rateFigure('health', 'GET /v1/sys/health', 'req/s', 9800, { label: 'bare node http', value: 21000 }),
          { id: 'transit', label: 'Transit encrypt', skipped: 'engine not mounted' },
        ],
      },
    ]);
    const lines = table.split('\n');
    assert.match(lines.find((l) => l.startsWith('GET'))!, /^GET \/v1\/sys\/health\s+9,800 req\/s\s+bare node http\s+21,000 req\/s\s+0\.47x/);
    assert.match(lines.find((l) => l.startsWith('Transit'))!, /skipped\s+engine not mounted$/);
    assert.match(formatTable([{ title: 'T', rows: [] }], true), /^\| Measured \| Tresor \|/);
  });
});
