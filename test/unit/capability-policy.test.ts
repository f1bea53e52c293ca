import { describe, expect, it } from '@jest/globals';
import { CapabilityNotAllowedError, checkCapabilities, readAllowedCapabilities } from '../../agent/capability-policy';
import type { ContainerDefinition } from '../../shared/domain/task-definition';
import { caught } from '../support/caught';

const aContainer = (name: string, add?: string[]): ContainerDefinition =>
  ({ name, image: 'busybox', essential: true, ...(add ? { linuxParameters: { capabilities: { add } } } : {}) }) as ContainerDefinition;

describe('CapabilityPolicy', () => {
  describe('readAllowedCapabilities', () => {
    it.each<[string, string | undefined, string[]]>([
      ['unset: Fargate\'s SYS_PTRACE', undefined, ['SYS_PTRACE']],
      ['empty: none', '', []],
      ['a list, CAP_ prefix, case and spaces aside', ' cap_net_admin, SYS_PTRACE ,,', ['NET_ADMIN', 'SYS_PTRACE']],
      ['ALL', 'ALL', ['ALL']],
    ])('reads %s', (_description, value, expected) => {
      expect(readAllowedCapabilities(value)).toEqual(expected);
    });
  });

  describe('checkCapabilities', () => {
    it('allows a task that adds nothing under a policy of none', () => {
      expect(caught(() => checkCapabilities([aContainer('app')], []))).toBeUndefined();
    });

    it('allows what the policy lists, and anything under ALL', () => {
      const containers = [aContainer('app', ['SYS_PTRACE']), aContainer('tool', ['NET_ADMIN'])];

      expect(caught(() => checkCapabilities(containers, ['SYS_PTRACE', 'NET_ADMIN']))).toBeUndefined();
      expect(caught(() => checkCapabilities(containers, ['ALL']))).toBeUndefined();
    });

    it('refuses a capability the policy does not list, naming the container, the capability and the policy', () => {
      // Act
      const error = caught(() => checkCapabilities([aContainer('app', ['SYS_PTRACE']), aContainer('tool', ['NET_ADMIN', 'SYS_PTRACE'])], ['SYS_PTRACE']));

      // Assess
      expect(error).toBeInstanceOf(CapabilityNotAllowedError);
      expect(error).toMatchObject({ container: 'tool', refused: ['NET_ADMIN'] });
      expect((error as Error).message).toMatch(/container 'tool' asks for Linux capabilities NET_ADMIN .*\(BERTH_ALLOWED_CAPABILITIES: SYS_PTRACE\)/);
    });

    it('refuses a task asking for ALL unless the policy is ALL', () => {
      expect(caught(() => checkCapabilities([aContainer('app', ['ALL'])], ['SYS_PTRACE', 'NET_ADMIN']))).toBeInstanceOf(CapabilityNotAllowedError);
    });
  });
});
