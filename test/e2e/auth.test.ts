import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { issueAccessKey } from '../../shared/auth/access-keys';
import { awsEcs } from '../support/aws-cli';
import { expectEcsError } from '../support/ecs-model';
import { type Harness, settledSnapshot, startHarness } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

const TARGET = 'AmazonEC2ContainerServiceV20141113';
const create = (name: string) => JSON.stringify({ clusterName: name });

/** SigV4 as AWS checks it: every refused request gets AWS's error and changes nothing. */
describe('API authentication (SigV4)', () => {
  let h: Harness;
  let other: { accessKeyId: string; secretAccessKey: string };
  beforeAll(async () => {
    h = await startHarness();
    other = await issueAccessKey(h.berth, 'user');
  });
  afterAll(() => h.close());

  it('accepts a request the SDK signed, and one the AWS CLI signed', async () => {
    expect((await h.ecs.send(new ListClustersCommand({}))).clusterArns).toBeDefined();
    expect((await awsEcs(h.url, ['list-clusters'])).code).toBe(0);
  });

  it('accepts a key it issued, and refuses it for a host key', async () => {
    const user = await issueAccessKey(h.berth, 'user');
    const host = await issueAccessKey(h.berth, 'host', 'some-host');
    const ok = await signedFetch(h.url, { target: `${TARGET}.ListClusters`, body: '{}', credentials: user });
    expect(ok.status).toBe(200);
    const refused = await signedFetch(h.url, { target: `${TARGET}.ListClusters`, body: '{}', credentials: host });
    expectEcsError(await refused.json(), 'UnrecognizedClientException');
  });

  const cases: [string, () => Promise<Response>, number, string][] = [
    ['no signature', () => fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${TARGET}.CreateCluster` }, body: create('nosig') }), 403, 'MissingAuthenticationTokenException'],
    ['a malformed Authorization header', () => fetch(h.url, { method: 'POST', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDLOCAL', 'x-amz-date': '20260101T000000Z', 'x-amz-target': `${TARGET}.CreateCluster` }, body: create('malformed') }), 400, 'IncompleteSignature'],
    ['a wrong secret', () => signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('wrong'), credentials: { accessKeyId: h.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } }), 400, 'InvalidSignatureException'],
    ['a key nobody issued', () => signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('unknown'), credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' } }), 400, 'UnrecognizedClientException'],
    ['a tampered body', () => signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('tamper-a'), credentials: h.credentials, tamper: (r) => { r.body = Buffer.from(create('tamper-b')); } }), 400, 'InvalidSignatureException'],
    ['a tampered target', () => signedFetch(h.url, { target: `${TARGET}.ListClusters`, body: create('tamper-t'), credentials: h.credentials, tamper: (r) => { r.headers['x-amz-target'] = `${TARGET}.CreateCluster`; } }), 400, 'InvalidSignatureException'],
    ['a stale date (20 minutes old)', () => signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('stale'), credentials: h.credentials, signingDate: new Date(Date.now() - 20 * 60_000) }), 400, 'InvalidSignatureException'],
    ['another key\'s signature under this key\'s id', async () => {
      return signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('borrowed'), credentials: other, tamper: (r) => {
        r.headers.authorization = r.headers.authorization.replace(other.accessKeyId, h.credentials.accessKeyId);
      } });
    }, 400, 'InvalidSignatureException'],
    ['a signature for another service', () => signedFetch(h.url, { target: `${TARGET}.CreateCluster`, body: create('service'), credentials: h.credentials, service: 'sqs' }), 400, 'InvalidSignatureException'],
  ];

  it.each(cases)('refuses %s with AWS\'s error and changes nothing', async (_what, send, status, type) => {
    const before = await settledSnapshot(h);
    const res = await send();
    expect(res.status).toBe(status);
    expectEcsError(await res.json(), type);
    expect(await settledSnapshot(h)).toEqual(before);
  });

  it('refuses the SDK with a wrong secret as the SDK expects', async () => {
    const bad = new ECSClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: h.credentials.accessKeyId, secretAccessKey: 'nope' }, maxAttempts: 1 });
    await expect(bad.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    bad.destroy();
  });
});
