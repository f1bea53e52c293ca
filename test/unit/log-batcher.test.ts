import fc from 'fast-check';
import { cutBatches, splitMessage } from '../../shared/logs/log-batcher';
import { PUT_LOG_EVENTS_LIMITS, eventBytes } from '../../shared/logs/limits';

describe('log batcher', () => {
  describe('cutBatches', () => {
    const limits = { maxEvents: 4, maxBatchBytes: 200, maxEventBytes: 100, maxBatchSpanMs: 1000 };

    it('cuts at the event count, the byte size counting 26 bytes per event, and the time span', () => {
      // Prepare
      const many = Array.from({ length: 9 }, (_, i) => ({ timestamp: 0, message: `${i}` }));
      const heavy = Array.from({ length: 4 }, (_, i) => ({ timestamp: 0, message: `${i}`.padEnd(74, 'x') })); // 100 bytes each
      const spread = [{ timestamp: 0, message: 'a' }, { timestamp: 1000, message: 'b' }, { timestamp: 1001, message: 'c' }];

      // Act
      const byCount = cutBatches(many, limits);
      const bySize = cutBatches(heavy, limits);
      const bySpan = cutBatches(spread, limits);

      // Assess
      expect(byCount.map((b) => b.length)).toEqual([4, 4, 1]);
      expect(bySize.map((b) => b.length)).toEqual([2, 2]);
      expect(bySpan.map((b) => b.map((e) => e.message))).toEqual([['a', 'b'], ['c']]);
    });

    it('keeps every event, in order, and every batch within the real limits', () => {
      fc.assert(fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 3_600_000 }), size: fc.integer({ min: 1, max: 20_000 }) }), { maxLength: 400 }),
        (specs) => {
          // Prepare
          let t = 0;
          const events = specs.map((s, i) => ({ timestamp: (t += s.gapMs), message: `${i}:`.padEnd(s.size, 'é') }));

          // Act
          const batches = cutBatches(events);

          // Assess
          expect(batches.flat()).toEqual(events);
          for (const b of batches) {
            expect(b.length).toBeGreaterThan(0);
            expect(b.length).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.maxEvents);
            expect(b.reduce((sum, e) => sum + eventBytes(e.message), 0)).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.maxBatchBytes);
            expect(b[b.length - 1].timestamp - b[0].timestamp).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.maxBatchSpanMs);
          }
        },
      ), { numRuns: 50 });
    });

    it('puts 10,001 small events in two batches', () => {
      const events = Array.from({ length: 10_001 }, (_, i) => ({ timestamp: i, message: `line ${i}` }));
      expect(cutBatches(events).map((b) => b.length)).toEqual([10_000, 1]);
    });
  });

  describe('splitMessage', () => {
    it('leaves a line that fits as it is', () => {
      expect(splitMessage('hello')).toEqual(['hello']);
    });

    it('cuts a line over the event limit into pieces that fit, at character boundaries', () => {
      // Prepare: 3-byte characters, so a cut in the middle of one would break UTF-8
      const line = '€'.repeat(100_000);

      // Act
      const pieces = splitMessage(line);

      // Assess
      expect(pieces.join('')).toBe(line);
      expect(pieces.length).toBe(2);
      for (const p of pieces) expect(eventBytes(p)).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.maxEventBytes);
    });
  });
});
