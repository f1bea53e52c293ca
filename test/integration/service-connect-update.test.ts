/**
 * Two UpdateService calls that change a service's Service Connect names at once, against the
 * store on dynalite: whichever order their steps interleave in, the service ends naming exactly
 * the endpoints that are published for it, not target groups the other call removed.
 */
import type { LoadBalancing } from '../../shared/cloud/load-balancing';
import type { WantedEndpoint } from '../../shared/cloud/service-connect';
import { StoreServiceConnect, withServiceConnect } from '../../shared/cloud/store-service-connect';
import { type Deferred, deferred } from '../support/deferred';
import { type Harness, startHarness } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

const OWNER = 'arn:aws:ecs:us-east-1:000000000000:service/default/shop';

describe('UpdateService changing Service Connect, twice at once', () => {
  let h: Harness;
  let sc: StoreServiceConnect;
  /** A publish of this discovery name says it has changed the store, and answers only once released. */
  const held = new Map<string, { reached: Deferred; release: Deferred }>();
  const call = async (operation: string, body: object): Promise<{ status: number; body: any }> => {
    const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });
    return { status: r.status, body: await r.json() };
  };
  const connect = (discoveryName: string) => ({
    serviceConnectConfiguration: { enabled: true, namespace: 'shop', services: [{ portName: 'http', discoveryName, clientAliases: [{ port: 8080, dnsName: discoveryName }] }] },
  });

  beforeAll(async () => {
    h = await startHarness();
    sc = new StoreServiceConnect(h.berth.store.serviceConnect, h.berth.partition, () => h.berth.now());
    const publish = sc.publish.bind(sc);
    sc.publish = async (owner: string, namespaceArn: string | undefined, wanted: readonly WantedEndpoint[]) => {
      const published = await publish(owner, namespaceArn, wanted);
      const hold = held.get(wanted[0]?.discoveryName ?? '');
      held.delete(wanted[0]?.discoveryName ?? '');
      hold?.reached.resolve();
      await hold?.release.promise;
      return published;
    };
    const noElb: LoadBalancing = { register: async () => {}, deregister: async () => {}, health: async () => undefined };
    h.berth.serviceConnect = sc;
    h.berth.loadBalancing = withServiceConnect(sc, noElb);
    await sc.createNamespace('shop');
    expect((await call('RegisterTaskDefinition', {
      family: 'shop', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', portMappings: [{ containerPort: 8080, name: 'http' }] }],
    })).status).toBe(200);
    expect((await call('CreateService', { serviceName: 'shop', taskDefinition: 'shop', desiredCount: 0, ...connect('first') })).status).toBe(200);
  });
  afterAll(() => h.close());

  it('a call that published before the other but writes the service after it publishes again, so the service names what is published', async () => {
    // Prepare: A's publish changes the store, then waits; B publishes and writes the service meanwhile.
    const a = { reached: deferred(), release: deferred() };
    held.set('from-a', a);

    // Act
    const first = call('UpdateService', { service: 'shop', ...connect('from-a') });
    await a.reached.promise;
    const second = await call('UpdateService', { service: 'shop', ...connect('from-b') });
    a.release.resolve();
    const answer = await first;

    // Assess: both calls succeeded; the service's endpoints are the published ones, of the call that wrote last.
    expect([answer.status, second.status]).toEqual([200, 200]);
    const service = (await h.berth.store.services.list('default')).find((s) => s.serviceName === 'shop')!;
    const published = (await sc.endpoints()).filter((e) => e.owner === OWNER);
    expect(published.map((e) => e.discoveryName)).toEqual(['from-a']);
    expect(service.serviceConnect!.endpoints.map((e) => [e.discoveryName, e.targetGroupArn])).toEqual(published.map((e) => [e.discoveryName, e.targetGroupArn]));
  });
});
