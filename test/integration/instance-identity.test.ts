import fc from 'fast-check';
import { AgentClient } from '../../agent/client';
import { expectEcsError } from '../support/ecs-model';
import { type Harness, settledSnapshot, startHarness } from '../support/harness';
import { type DocumentFields, createTestIdentitySigner, identityDocument } from '../support/identity-ca';

const signer = createTestIdentitySigner();
const stranger = createTestIdentitySigner();

/** A host the capacity manager launched on EC2: LAUNCHING, with its instance id recorded. */
const launchInstance = (h: Harness, instanceId: string, options: { recordInstanceId?: boolean } = {}) =>
  h.berth.store.hosts.launching({
    hostId: instanceId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840,
    instanceId: options.recordInstanceId === false ? undefined : instanceId,
  }, Date.now());

const registerWith = (h: Harness, hostId: string, instanceIdentity: { document: string; signature: string }) =>
  fetch(`${h.url}/agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'BerthAgent.RegisterHost' },
    body: JSON.stringify({ hostId, cpu: 2048, memory: 3840, instanceIdentity }),
  });

const signed = (fields: DocumentFields, by = signer) => {
  const document = identityDocument(fields);
  return { document, signature: by.sign(document) };
};

/**
 * On EC2 an agent proves which instance it runs on with the instance identity document that
 * IMDS signs. Only a document signed by a trusted certificate, of this account and Region, for an
 * instance Berth launched and that has not registered yet, admits a host.
 */
describe('Registration with an EC2 instance identity document', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: { openHostRegistration: false, instanceIdentity: { certificates: { 'us-east-1': signer.certificatePem }, maxDocumentAgeSeconds: 1800 } },
    });
  });
  afterAll(() => h.close());

  it('registers the launched instance and gives it its own key, which then signs its calls', async () => {
    // Prepare
    await launchInstance(h, 'i-0a0000000000000a1');
    const agent = new AgentClient(h.url, 'i-0a0000000000000a1', 'us-east-1', { instanceIdentity: async () => signed({ instanceId: 'i-0a0000000000000a1' }) });

    // Act
    const r = await agent.register(2048, 3840);

    // Assess
    expect(r.credentials?.accessKeyId).toMatch(/^BH[A-Z2-7]{18}$/);
    expect(await h.berth.store.hosts.get('i-0a0000000000000a1')).toMatchObject({ status: 'ACTIVE', instanceId: 'i-0a0000000000000a1' });
    await agent.heartbeat();
    expect((await agent.poll({}, 0)).tasks).toEqual([]);
  });

  it('refuses the same document again: a replay cannot take a second key', async () => {
    // Prepare: the instance registered with this document.
    await launchInstance(h, 'i-0a0000000000000a2');
    const proof = signed({ instanceId: 'i-0a0000000000000a2' });
    expect((await registerWith(h, 'i-0a0000000000000a2', proof)).status).toBe(200);
    const before = await settledSnapshot(h);

    // Act
    const res = await registerWith(h, 'i-0a0000000000000a2', proof);

    // Assess
    expect(res.status).toBe(400);
    expectEcsError(await res.json(), 'AccessDeniedException');
    expect(await settledSnapshot(h)).toEqual(before);
  });

  const cases: Array<[string, string, () => { document: string; signature: string }, string]> = [
    ['a forged signature', 'i-0b00000000000000b', () => signed({ instanceId: 'i-0b00000000000000b' }, stranger), 'AccessDeniedException'],
    ['an unknown instance', 'i-0c00000000000000c', () => signed({ instanceId: 'i-0c00000000000000c' }), 'AccessDeniedException'],
    ['another account', 'i-0b00000000000000b', () => signed({ instanceId: 'i-0b00000000000000b', accountId: '123456789012' }), 'AccessDeniedException'],
    ['another Region', 'i-0b00000000000000b', () => signed({ instanceId: 'i-0b00000000000000b', region: 'eu-west-1' }), 'AccessDeniedException'],
    ['another instance than the host it claims', 'i-0b00000000000000b', () => signed({ instanceId: 'i-0a0000000000000a1' }), 'AccessDeniedException'],
    ['a stale document', 'i-0b00000000000000b', () => signed({ instanceId: 'i-0b00000000000000b', pendingTime: Date.now() - 2 * 3600_000 }), 'AccessDeniedException'],
    ['a tampered document', 'i-0b00000000000000b', () => {
      const proof = signed({ instanceId: 'i-0b00000000000000b', instanceType: 't3.nano' });
      return { ...proof, document: proof.document.replace('t3.nano', 'c6i.32xlarge') };
    }, 'AccessDeniedException'],
    ['a host launched without an instance id (a local launch)', 'i-0d00000000000000d', () => signed({ instanceId: 'i-0d00000000000000d' }), 'AccessDeniedException'],
    ['a document that is not JSON', 'i-0b00000000000000b', () => ({ document: 'not json', signature: signer.sign('not json') }), 'InvalidParameterException'],
  ];

  it.each(cases)('refuses %s with a 4xx, and nothing changes', async (_what, hostId, proof, type) => {
    // Prepare: i-0b… was launched and is waiting to register; i-0d… has no instance id recorded.
    await launchInstance(h, 'i-0b00000000000000b');
    await launchInstance(h, 'i-0d00000000000000d', { recordInstanceId: false });
    const before = await settledSnapshot(h);

    // Act
    const res = await registerWith(h, hostId, proof());

    // Assess
    expect(res.status).toBe(400);
    expectEcsError(await res.json(), type);
    expect(await settledSnapshot(h)).toEqual(before);
  });

  it('answers random and mutated identity proofs with an ECS-shaped 4xx, changing nothing', async () => {
    // Prepare: valid documents with random edits, and arbitrary values where the proof goes.
    await launchInstance(h, 'i-0b00000000000000b');
    const valid = signed({ instanceId: 'i-0b00000000000000b' });
    const mutated = fc.tuple(fc.nat(valid.document.length - 1), fc.string({ minLength: 1, maxLength: 3 })).map(([at, text]) => ({
      ...valid, document: `${valid.document.slice(0, at)}${text}${valid.document.slice(at + 1)}`,
    })).filter((p) => p.document !== valid.document);
    const proofs = fc.oneof(
      mutated,
      fc.record({ document: fc.string({ maxLength: 5000 }), signature: fc.string({ maxLength: 3000 }) }),
      fc.record({ document: fc.constant(valid.document), signature: fc.base64String({ maxLength: 400 }) }),
      fc.anything(),
    );
    const before = await settledSnapshot(h);

    // Act + assess
    await fc.assert(fc.asyncProperty(proofs, async (proof) => {
      const res = await registerWith(h, 'i-0b00000000000000b', proof as { document: string; signature: string });
      // 403 where the value is no proof at all (MissingAuthenticationToken), 400 otherwise.
      expect([400, 403]).toContain(res.status);
      expectEcsError(await res.json());
    }), { numRuns: 150 });
    expect(await settledSnapshot(h)).toEqual(before);
  });

  it('still admits the launched instance after all those attempts', async () => {
    const res = await registerWith(h, 'i-0b00000000000000b', signed({ instanceId: 'i-0b00000000000000b' }));
    expect(res.status).toBe(200);
    expect((await h.berth.store.hosts.get('i-0b00000000000000b'))!.status).toBe('ACTIVE');
  });
});
