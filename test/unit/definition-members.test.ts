import { describe, expect, it } from '@jest/globals';
import { DEFINITION_MEMBERS, type MemberRule } from '../../shared/domain/definition-members';
import { ClientException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import { readRegisterRequest } from '../../shared/domain/task-definition';
import { caught } from '../support/caught';
import { type EcsModel, type Shape, loadEcsModel } from '../support/ecs-model';

/**
 * Every member of RegisterTaskDefinitionRequest in the ECS model awscli ships, and of every
 * structure under it that Berth reads, has a decision in DEFINITION_MEMBERS: read or refused. A member nobody decided about fails here.
 */

const model: EcsModel = loadEcsModel();
const shapeOf = (name: string): Shape => model.shapes[name];

/** The structure a member holds: itself, or its list's items. */
function structureUnder(shapeName: string): string | undefined {
  const s = shapeOf(shapeName);
  if (s.type === 'structure') return shapeName;
  if (s.type === 'list' && shapeOf(s.member.shape).type === 'structure') return s.member.shape;
  return undefined;
}

interface Decided { shape: string; member: string; rule: MemberRule | undefined; modelShape: string }

/** Walks the model from the request through every structure a read member leads to. */
function decisions(): Decided[] {
  const out: Decided[] = [];
  const seen = new Set<string>();
  const walk = (shape: string) => {
    if (seen.has(shape)) return;
    seen.add(shape);
    const s = shapeOf(shape);
    if (s.type !== 'structure') throw new Error(`${shape} is not a structure`);
    for (const [member, ref] of Object.entries(s.members)) {
      const rule = DEFINITION_MEMBERS[shape]?.[member];
      out.push({ shape, member, rule, modelShape: ref.shape });
      const under = structureUnder(ref.shape);
      if (rule && 'read' in rule && under) walk(under);
    }
  };
  walk('RegisterTaskDefinitionRequest');
  return out;
}

/** A value of the model's shape that asks for something. */
function sample(shapeName: string, depth = 0): unknown {
  const s = shapeOf(shapeName);
  switch (s.type) {
    case 'string': return s.enum?.[0] ?? 'x';
    case 'boolean': return true;
    case 'integer': case 'long': case 'double': case 'float': return 1;
    case 'list': return [sample(s.member.shape, depth + 1)];
    case 'map': return { k: 'v' };
    case 'structure':
      return depth > 4 ? {} : Object.fromEntries(Object.entries(s.members).map(([m, ref]) => [m, sample(ref.shape, depth + 1)]));
    default: return 'x';
  }
}

/** A definition Berth accepts, with one of each structure whose members a refusal is tested in. */
function aBody(): Json & { containerDefinitions: Json[]; volumes: Json[] } {
  return {
    family: 'members',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'busybox', portMappings: [{ containerPort: 80 }], linuxParameters: {} }],
    volumes: [{ name: 'data' }],
  };
}

/** Where, in aBody(), an instance of each structure is; and its field path as errors name it. */
const WHERE: Record<string, { at: (b: ReturnType<typeof aBody>) => Json; path: string }> = {
  RegisterTaskDefinitionRequest: { at: (b) => b, path: '' },
  ContainerDefinition: { at: (b) => b.containerDefinitions[0], path: 'containerDefinitions[0].' },
  PortMapping: { at: (b) => (b.containerDefinitions[0].portMappings as Json[])[0], path: 'containerDefinitions[0].portMappings[0].' },
  LinuxParameters: { at: (b) => b.containerDefinitions[0].linuxParameters as Json, path: 'containerDefinitions[0].linuxParameters.' },
  Volume: { at: (b) => b.volumes[0], path: 'volumes[0].' },
};

describe('TaskDefinition members', () => {
  const all = decisions();

  it('walks the model\'s request and the structures under it', () => {
    expect(all.filter((d) => d.shape === 'ContainerDefinition').length).toBeGreaterThanOrEqual(39);
    expect([...new Set(all.map((d) => d.shape))]).toEqual(expect.arrayContaining(['Volume', 'MountPoint', 'LinuxParameters', 'PortMapping']));
  });

  it('has a decision for every member of the model, and names no member the model lacks', () => {
    const undecided = all.filter((d) => d.rule === undefined).map((d) => `${d.shape}.${d.member}`);
    expect(undecided).toEqual([]);
    const known = new Set(all.map((d) => `${d.shape}.${d.member}`));
    const extra = Object.entries(DEFINITION_MEMBERS).flatMap(([shape, members]) => Object.keys(members).map((m) => `${shape}.${m}`))
      .filter((m) => !known.has(m));
    expect(extra).toEqual([]);
  });

  it('names, for each structure it reads, the model\'s shape', () => {
    const wrong = all.filter((d) => d.rule && 'read' in d.rule && d.rule.shape !== structureUnder(d.modelShape))
      .map((d) => `${d.shape}.${d.member}`);
    expect(wrong).toEqual([]);
  });

  const refusals = all.filter((d) => d.rule && 'refused' in d.rule);

  it('refuses some members (this list is the one to check against what Berth can honour)', () => {
    expect(refusals.map((d) => `${d.shape}.${d.member}`)).toEqual(expect.arrayContaining([
      'RegisterTaskDefinitionRequest.placementConstraints', 'RegisterTaskDefinitionRequest.proxyConfiguration',
      'ContainerDefinition.links', 'ContainerDefinition.hostname', 'ContainerDefinition.firelensConfiguration',
      'LinuxParameters.devices', 'Volume.fsxWindowsFileServerVolumeConfiguration',
    ]));
  });

  it.each(refusals.map((d) => [`${d.shape}.${d.member}`, d] as const))('refuses %s with ClientException naming it', (_, d) => {
    // Prepare
    const body = aBody();
    const where = WHERE[d.shape];
    expect(where).toBeDefined();
    where.at(body)[d.member] = sample(d.modelShape);

    // Act
    const e = caught(() => readRegisterRequest(body));

    // Assess
    expect(e).toBeInstanceOf(ClientException);
    expect((e as Error).message).toContain(`'${where.path}${d.member}'`);
  });

  it.each<[string, (b: ReturnType<typeof aBody>) => void]>([
    ['links: []', (b) => (b.containerDefinitions[0].links = [])],
    ['interactive: false', (b) => (b.containerDefinitions[0].interactive = false)],
    ['placementConstraints: []', (b) => (b.placementConstraints = [])],
    ['proxyConfiguration: null', (b) => (b.proxyConfiguration = null)],
    ['an unknown member that is null', (b) => (b.containerDefinitions[0].restartPolicy = null)],
    ['dockerLabels and repositoryCredentials', (b) => {
      b.containerDefinitions[0].dockerLabels = { team: 'a' };
      b.containerDefinitions[0].repositoryCredentials = { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:r' };
      b.executionRoleArn = 'arn:aws:iam::123456789012:role/exec';
    }],
  ])('accepts a member that asks for nothing, or one Berth reads: %s', (_, change) => {
    const body = aBody();
    change(body);
    expect(() => readRegisterRequest(body)).not.toThrow();
  });

  it.each<[string, (b: ReturnType<typeof aBody>) => void, string]>([
    ['a task member newer than Berth', (b) => (b.enableFaultInjection = true), 'enableFaultInjection'],
    ['a container member newer than Berth', (b) => (b.containerDefinitions[0].restartPolicy = { enabled: true }), 'containerDefinitions[0].restartPolicy'],
    ['a misspelt member', (b) => (b.containerDefinitions[0].mountPoint = [{ sourceVolume: 'data', containerPath: '/d' }]), 'containerDefinitions[0].mountPoint'],
    ['a member unknown in a volume', (b) => (b.volumes[0].driver = 'local'), 'volumes[0].driver'],
  ])('refuses %s, naming it', (_, change, field) => {
    const body = aBody();
    change(body);
    expect(() => readRegisterRequest(body)).toThrow(new RegExp(`^Invalid parameter '${field.replace(/[[\]]/g, '\\$&')}': Berth does not know`));
  });
});
