import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** What the teardown needs of the fleet: its hosts, whatever the store knows, and their end. */
export interface ManagedHosts {
  listManaged(): Promise<string[]>;
  terminate(hostIds: string[]): Promise<void>;
}

export type CustomResourceResponder = (body: object, url: string) => Promise<void>;

/** CloudFormation reads the answer from a presigned S3 URL: a PUT with no content type. */
export const putResponse: CustomResourceResponder = async (body, url) => {
  const res = await fetch(url, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': '' } });
  if (!res.ok) throw new Error(`CloudFormation's response URL answered ${res.status}`);
};

/**
 * The stack's custom resource that removes its hosts: on Delete it terminates every instance the
 * capacity function launched for this stage, so a removed stack leaves no instance behind. Create
 * and Update do nothing. A failure is reported as FAILED: the stack's deletion stops rather than
 * leave instances running (delete again once the reason is fixed).
 */
export async function teardownHosts(
  event: CloudFormationCustomResourceEvent, hosts: ManagedHosts, respond: CustomResourceResponder = putResponse,
): Promise<{ terminated: string[] }> {
  let terminated: string[] = [];
  let failure: string | undefined;
  if (event.RequestType === 'Delete') {
    try {
      terminated = await hosts.listManaged();
      if (terminated.length > 0) await hosts.terminate(terminated);
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
  }
  await respond({
    Status: failure ? 'FAILED' : 'SUCCESS',
    Reason: failure ?? `terminated ${terminated.length} host(s)`,
    PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : `berth-hosts-${event.LogicalResourceId}`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: { Terminated: terminated.length },
  }, event.ResponseURL);
  return { terminated };
}
