import fc from 'fast-check';
import { STARTING, type HealthState, afterProbe, probeCommand } from '../../agent/health-check';
import { type ContainerHealth, HEALTH_STATUSES, containerHealthStatus, hasHealthCheck, taskHealthStatus } from '../../shared/domain/health';

const checked = (healthStatus: ContainerHealth['healthStatus'], essential = true): ContainerHealth => ({ essential, hasHealthCheck: true, healthStatus });
const unchecked = (essential = true): ContainerHealth => ({ essential });

describe('Container health', () => {
  describe('taskHealthStatus', () => {
    it.each<[string, ContainerHealth[], string]>([
      ['no container has a check', [unchecked(), unchecked(false)], 'UNKNOWN'],
      ['the essential check has no answer yet', [checked(undefined)], 'UNKNOWN'],
      ['every essential check passes', [checked('HEALTHY'), checked('HEALTHY'), unchecked()], 'HEALTHY'],
      ['one essential check fails', [checked('HEALTHY'), checked('UNHEALTHY')], 'UNHEALTHY'],
      ['one fails while another has no answer', [checked(undefined), checked('UNHEALTHY')], 'UNHEALTHY'],
      ['one passes while another has no answer', [checked('HEALTHY'), checked(undefined)], 'UNKNOWN'],
      ['a nonessential check fails', [checked('HEALTHY'), checked('UNHEALTHY', false)], 'HEALTHY'],
      ['only nonessential containers have checks, all passing', [unchecked(), checked('HEALTHY', false)], 'UNKNOWN'],
      ['only nonessential containers have checks, one failing', [unchecked(), checked('UNHEALTHY', false)], 'UNKNOWN'],
    ])('%s → %s', (_, containers, expected) => {
      // Act
      const status = taskHealthStatus(containers);

      // Assess
      expect(status).toBe(expected);
    });

    it('follows the essential checked containers alone, whatever the others say', () => {
      const container = fc.record({
        essential: fc.boolean(),
        hasHealthCheck: fc.option(fc.boolean(), { nil: undefined }),
        healthStatus: fc.option(fc.constantFrom(...HEALTH_STATUSES), { nil: undefined }),
      });
      fc.assert(fc.property(fc.array(container, { maxLength: 10 }), (containers) => {
        const counted = containers.filter((c) => c.essential && c.hasHealthCheck).map(containerHealthStatus);
        const status = taskHealthStatus(containers);
        if (counted.includes('UNHEALTHY')) expect(status).toBe('UNHEALTHY');
        else if (counted.length > 0 && counted.every((s) => s === 'HEALTHY')) expect(status).toBe('HEALTHY');
        else expect(status).toBe('UNKNOWN');
      }));
    });
  });

  describe('containerHealthStatus', () => {
    it('is UNKNOWN without a check, whatever was reported', () => {
      expect(containerHealthStatus({ essential: true, healthStatus: 'HEALTHY' })).toBe('UNKNOWN');
      expect(containerHealthStatus(checked(undefined))).toBe('UNKNOWN');
      expect(containerHealthStatus(checked('UNHEALTHY'))).toBe('UNHEALTHY');
    });
  });

  describe('hasHealthCheck', () => {
    it('counts a check on any container, nonessential ones too', () => {
      expect(hasHealthCheck([unchecked(), checked(undefined, false)])).toBe(true);
      expect(hasHealthCheck([unchecked(), unchecked(false)])).toBe(false);
    });
  });
});

describe('Health check (agent)', () => {
  const check = { command: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 5, timeout: 2, retries: 3, startPeriod: 10 };
  /** Probes in order, each `interval` after the last; the states after each. */
  const run = (results: boolean[], c = check): HealthState[] => {
    let state = STARTING;
    return results.map((passed, i) => (state = afterProbe(state, c, passed, (i + 1) * c.interval * 1000)));
  };

  describe('afterProbe', () => {
    it('has no answer until a probe passes or retries failures count', () => {
      // Act: probes at 5 s and 10 s; the one at 5 s falls within the start period.
      const states = run([false, false]);

      // Assess
      expect(states.map((s) => s.status)).toEqual([undefined, undefined]);
      expect(states[1].failingStreak).toBe(1);
    });

    it('ignores failures within startPeriod while starting, then counts retries in a row', () => {
      // Act: 5 s ignored; 10, 15, 20 s counted.
      const states = run([false, false, false, false]);

      // Assess
      expect(states.map((s) => s.status)).toEqual([undefined, undefined, undefined, 'UNHEALTHY']);
    });

    it('is HEALTHY on one pass, UNHEALTHY after retries failures, HEALTHY again on one pass', () => {
      // Act
      const states = run([true, false, false, false, true]);

      // Assess
      expect(states.map((s) => s.status)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY', 'HEALTHY']);
    });

    it('counts failures within startPeriod once a probe has passed', () => {
      // Act: startPeriod 60 s, so every probe below is within it.
      const states = run([true, false], { ...check, retries: 1, startPeriod: 60 });

      // Assess
      expect(states.map((s) => s.status)).toEqual(['HEALTHY', 'UNHEALTHY']);
    });

    it('needs the failures in a row: a pass starts the count afresh', () => {
      // Act
      const states = run([true, false, false, true, false, false], { ...check, startPeriod: 0 });

      // Assess
      expect(states.every((s) => s.status === 'HEALTHY')).toBe(true);
    });
  });

  describe('probeCommand', () => {
    it.each([
      [['CMD-SHELL', 'test -f /tmp/ok'], ['/bin/sh', '-c', 'test -f /tmp/ok']],
      [['CMD', 'test', '-f', '/tmp/ok'], ['test', '-f', '/tmp/ok']],
    ])('%j runs as %j', (command, expected) => {
      expect(probeCommand({ ...check, command })).toEqual(expected);
    });
  });
});
