import { describe, expect, it } from '@jest/globals';
import { ClientException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import { readRegisterRequest } from '../../shared/domain/task-definition';
import { caught } from '../support/caught';

/** A definition with one container carrying `extra`, FARGATE-compatible or EC2-only. */
function aBody(extra: Record<string, unknown>, compatibility: 'FARGATE' | 'EC2' = 'FARGATE', task: Record<string, unknown> = {}): Json {
  return {
    family: 'caps',
    requiresCompatibilities: [compatibility],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'busybox', ...extra }],
    ...task,
  };
}

const withCapabilities = (capabilities: unknown) => ({ linuxParameters: { capabilities } });

describe('TaskDefinition', () => {
  describe('linuxParameters.capabilities', () => {
    it('keeps SYS_PTRACE added and any capability dropped on a FARGATE definition', () => {
      // Prepare
      const body = aBody(withCapabilities({ add: ['SYS_PTRACE'], drop: ['NET_RAW', 'MKNOD'] }));

      // Act
      const { spec } = readRegisterRequest(body);

      // Assess
      expect(spec.containerDefinitions[0].linuxParameters).toEqual({ capabilities: { add: ['SYS_PTRACE'], drop: ['NET_RAW', 'MKNOD'] } });
    });

    it('keeps any listed capability added on an EC2-only definition', () => {
      // Prepare
      const body = aBody(withCapabilities({ add: ['NET_ADMIN', 'SYS_TIME'] }), 'EC2');

      // Act
      const { spec } = readRegisterRequest(body);

      // Assess
      expect(spec.containerDefinitions[0].linuxParameters).toEqual({ capabilities: { add: ['NET_ADMIN', 'SYS_TIME'] } });
    });

    it('refuses the linuxParameters members it cannot honour, naming them', () => {
      expect(() => readRegisterRequest(aBody({ linuxParameters: { initProcessEnabled: true } })))
        .toThrow("Invalid parameter 'containerDefinitions[0].linuxParameters.initProcessEnabled': Berth cannot honour it");
    });

    it('keeps an empty linuxParameters, and leaves out what was not given', () => {
      // Prepare
      const body = aBody({ linuxParameters: { initProcessEnabled: false } });
      body.containerDefinitions = [...(body.containerDefinitions as Json[]), { name: 'plain', image: 'busybox' }];

      // Act
      const { spec } = readRegisterRequest(body);

      // Assess
      expect(spec.containerDefinitions[0].linuxParameters).toEqual({});
      expect(spec.containerDefinitions[1]).not.toHaveProperty('linuxParameters');
    });

    it.each<[string, Json, string]>([
      ['adding NET_ADMIN on FARGATE', aBody(withCapabilities({ add: ['NET_ADMIN'] })), 'containerDefinitions[0].linuxParameters.capabilities.add'],
      ['adding ALL on FARGATE', aBody(withCapabilities({ add: ['SYS_PTRACE', 'ALL'] })), 'containerDefinitions[0].linuxParameters.capabilities.add'],
      ['an unknown capability', aBody(withCapabilities({ add: ['CAP_SYS_PTRACE'] }), 'EC2'), 'containerDefinitions[0].linuxParameters.capabilities.add[0]'],
      ['a lower-case capability', aBody(withCapabilities({ drop: ['net_raw'] })), 'containerDefinitions[0].linuxParameters.capabilities.drop[0]'],
      ['add as a string', aBody(withCapabilities({ add: 'SYS_PTRACE' })), 'containerDefinitions[0].linuxParameters.capabilities.add'],
      ['capabilities as a list', aBody(withCapabilities(['SYS_PTRACE'])), 'containerDefinitions[0].linuxParameters.capabilities'],
      ['linuxParameters as a string', aBody({ linuxParameters: 'privileged' }), 'containerDefinitions[0].linuxParameters'],
    ])('rejects %s, naming the field', (_description, body, field) => {
      // Act
      const error = caught(() => readRegisterRequest(body));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain(`'${field}'`);
    });

    it('says which capabilities Fargate refuses and which it allows', () => {
      // Act
      const error = caught(() => readRegisterRequest(aBody(withCapabilities({ add: ['SYS_PTRACE', 'NET_ADMIN', 'SYS_ADMIN'] }))));

      // Assess
      expect((error as Error).message).toMatch(/only support adding the SYS_PTRACE kernel capability, not NET_ADMIN, SYS_ADMIN/);
    });
  });

  describe('host privileges', () => {
    it.each<[string, Json, string]>([
      ['a privileged container on FARGATE', aBody({ privileged: true }), 'containerDefinitions[0].privileged'],
      ['a privileged container on EC2', aBody({ privileged: true }, 'EC2'), 'containerDefinitions[0].privileged'],
      ['privileged as a string', aBody({ privileged: 'true' }), 'containerDefinitions[0].privileged'],
      ['the host PID namespace', aBody({}, 'EC2', { pidMode: 'host' }), 'pidMode'],
      ['the host IPC namespace', aBody({}, 'EC2', { ipcMode: 'host' }), 'ipcMode'],
    ])('refuses %s', (_description, body, field) => {
      // Act
      const error = caught(() => readRegisterRequest(body));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain(`'${field}'`);
    });

    it('accepts privileged false, and keeps no trace of it', () => {
      // Act
      const { spec } = readRegisterRequest(aBody({ privileged: false }));

      // Assess
      expect(spec.containerDefinitions[0]).not.toHaveProperty('privileged');
    });
  });
});
