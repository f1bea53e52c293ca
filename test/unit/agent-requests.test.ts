import fc from 'fast-check';
import { parseRequest } from '../../shared/agent-api/parse';
import { AGENT_REQUESTS, type AgentOperation } from '../../shared/agent-wire/requests';
import { ClientException } from '../../shared/domain/errors';
import { HEALTH_STATUSES } from '../../shared/domain/health';
import { CONTAINER_STATUSES, STOP_CODES, TASK_STATUSES, TASK_TIMESTAMPS } from '../../shared/domain/task';
import { AGENT_METRICS, DIMENSIONS } from '../../shared/metrics/catalog';

const OPERATIONS = Object.keys(AGENT_REQUESTS) as AgentOperation[];
const REFUSAL = /^Invalid parameter '[^']+': .+\.$/s;

/** Parses, or refuses as the ECS API refuses a field; anything else thrown fails the property. */
function parseOrRefuse(operation: AgentOperation, body: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: parseRequest(AGENT_REQUESTS[operation], body) };
  } catch (e) {
    if (!(e instanceof ClientException) || !REFUSAL.test(e.message)) throw e;
    return { ok: false, message: e.message };
  }
}

const hex32 = fc.stringMatching(/^[a-f0-9]{32}$/);
const name = fc.stringMatching(/^[a-zA-Z0-9_-]{1,40}$/);
const epochMs = fc.integer({ min: 0, max: 2 ** 45 });

const container = fc.record({
  name,
  lastStatus: fc.constantFrom(...CONTAINER_STATUSES),
  exitCode: fc.option(fc.integer({ min: -1, max: 255 }), { nil: undefined }),
  reason: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
  runtimeId: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  image: fc.option(fc.constant('localhost/busybox:latest'), { nil: undefined }),
  essential: fc.option(fc.boolean(), { nil: undefined }),
  healthStatus: fc.option(fc.constantFrom(...HEALTH_STATUSES), { nil: undefined }),
}, { requiredKeys: ['name', 'lastStatus'] });

const report = fc.record({
  hostId: fc.constant('local-1a2b3c4d'),
  task: fc.record({ cluster: name, taskId: hex32 }),
  lastStatus: fc.constantFrom(...TASK_STATUSES),
  containers: fc.array(container, { maxLength: 10 }),
  timestamps: fc.record(Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, epochMs])), { requiredKeys: [] }),
  stop: fc.record({ stopCode: fc.constantFrom(...STOP_CODES), stoppedReason: fc.string({ maxLength: 200 }) }),
  seq: epochMs,
}, { requiredKeys: ['task', 'lastStatus'] });

const metric = fc.constantFrom(...AGENT_METRICS).chain((m) => fc.record({
  name: fc.constant(m.name),
  unit: fc.constant(m.unit),
  values: fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 5 }),
  dimensions: fc.record({ [DIMENSIONS.cluster]: name, [DIMENSIONS.task]: hex32 }),
  timestamp: epochMs,
}));

/** A valid body of each operation. */
const VALID: Record<AgentOperation, fc.Arbitrary<Record<string, unknown>>> = {
  RegisterHost: fc.record({
    hostId: fc.stringMatching(/^[a-z0-9-]{1,40}$/),
    cpu: fc.integer({ min: 1, max: 1 << 20 }),
    memory: fc.integer({ min: 1, max: 1 << 24 }),
    cpuArchitecture: fc.constantFrom('x86_64', 'arm64'),
    bootstrapToken: fc.string({ minLength: 1, maxLength: 64 }),
  }, { requiredKeys: ['hostId'] }),
  Heartbeat: fc.record({ hostId: fc.constant('local-1a2b3c4d') }, { requiredKeys: [] }),
  PollAssignments: fc.record({
    known: fc.dictionary(hex32, fc.constantFrom('RUNNING', 'STOPPED'), { maxKeys: 5 }),
    waitSeconds: fc.integer({ min: 0, max: 20 }),
  }, { requiredKeys: [] }),
  ReportTaskState: report,
  ReportMetrics: fc.record({ metrics: fc.array(metric, { maxLength: 5 }) }),
  GetTaskCredentials: fc.record({ task: fc.record({ cluster: name, taskId: hex32 }) }),
};

/** Every path to a member of a JSON value, as keys from the root. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

function replaceAt(v: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy: any = Array.isArray(v) ? [...v] : { ...(v as object) };
  copy[path[0]] = replaceAt(copy[path[0]], path.slice(1), replacement);
  return copy;
}

describe('Agent API requests', () => {
  describe('parseRequest', () => {
    it.each(OPERATIONS)('%s: any JSON body is parsed or refused with a ClientException naming the field', (operation) => {
      fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.object()), (body) => {
        parseOrRefuse(operation, body);
      }), { numRuns: 500 });
    });

    it.each(OPERATIONS)('%s: a valid body parses to itself', (operation) => {
      fc.assert(fc.property(VALID[operation], (body) => {
        const r = parseOrRefuse(operation, body);
        expect(r).toEqual({ ok: true, value: body });
      }), { numRuns: 200 });
    });

    it.each(OPERATIONS)('%s: one member of a valid body replaced by any JSON is parsed again, or refused', (operation) => {
      const mutated = VALID[operation].chain((body) => fc.record({
        body: fc.constant(body),
        path: fc.constantFrom(...paths(body)),
        value: fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(null)),
      }));
      fc.assert(fc.property(mutated, ({ body, path, value }) => {
        const r = parseOrRefuse(operation, replaceAt(body, path, value));
        // Whatever passes is exactly what the schema allows: parsing it again changes nothing.
        if (r.ok) expect(parseOrRefuse(operation, r.value)).toEqual(r);
      }), { numRuns: 500 });
    });
  });

  describe('ReportTaskState', () => {
    const valid = {
      task: { cluster: 'default', taskId: 'a'.repeat(32) },
      lastStatus: 'RUNNING',
      containers: [{ name: 'app', image: 'localhost/busybox:latest', essential: true, lastStatus: 'RUNNING', runtimeId: 'c'.repeat(64) }],
    };

    it.each([
      ['containers[0].exitCode', { containers: [{ ...valid.containers[0], exitCode: '0' }] }],
      ['containers[0].lastStatus', { containers: [{ ...valid.containers[0], lastStatus: 'EXPLODED' }] }],
      ['containers[0].name', { containers: [{ ...valid.containers[0], name: '../etc' }] }],
      ['containers[0].reason', { containers: [{ ...valid.containers[0], reason: 'x'.repeat(1025) }] }],
      ['containers[0].healthStatus', { containers: [{ ...valid.containers[0], healthStatus: 'SICK' }] }],
      ['containers[0].secretValue', { containers: [{ ...valid.containers[0], secretValue: 's3cr3t' }] }],
      ['containers', { containers: Array.from({ length: 11 }, () => valid.containers[0]) }],
      ['task.taskId', { task: { cluster: 'default', taskId: 'not-a-task' } }],
      ['timestamps.startedAt', { timestamps: { startedAt: -1 } }],
      ['timestamps.bornAt', { timestamps: { bornAt: 1 } }],
      ['stop.stopCode', { stop: { stopCode: 'Whatever' } }],
      ['seq', { seq: 1.5 }],
      ['extra', { extra: true }],
    ])('refuses %s', (field, change) => {
      // Act
      const r = parseOrRefuse('ReportTaskState', { ...valid, ...change });

      // Assess
      expect(r.ok).toBe(false);
      expect((r as { message: string }).message).toContain(`Invalid parameter '${field}'`);
    });
  });
});
