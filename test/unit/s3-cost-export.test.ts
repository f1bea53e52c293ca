import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { type HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { S3CostExportStore } from '../../shared/cloud/aws/s3-cost-export';

/**
 * The thin S3 adapter of the cost export, around the SDK: the request it sends, caught before it
 * leaves (no network), and what a failed PUT does.
 */
function clientAnswering(status: number, sent: { method: string; hostname: string; path: string; headers: Record<string, string>; body: unknown }[]) {
  // The SDK's HTTP handler is a port of its own: this one answers here instead of sending.
  const requestHandler = {
    async handle(request: HttpRequest) {
      sent.push({ method: request.method, hostname: request.hostname, path: request.path, headers: request.headers, body: request.body });
      const body = status < 300 ? '' : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
      return { response: new HttpResponse({ statusCode: status, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(body)]) }) };
    },
  };
  return new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1, requestHandler });
}

describe('S3CostExportStore', () => {
  it('puts the day\'s file as a signed PUT of the key, as CSV', async () => {
    const sent: Parameters<typeof clientAnswering>[1] = [];
    const store = new S3CostExportStore({ client: clientAnswering(200, sent), bucket: 'berth-costs-dev' });

    await store.put('usage/2026/12/06.csv', 'cluster,tasks\ndefault,1\n');

    expect(sent).toHaveLength(1);
    expect(sent[0].method).toBe('PUT');
    expect(`${sent[0].hostname}${sent[0].path}`).toMatch(/^berth-costs-dev\.s3\.(us-east-1\.)?amazonaws\.com\/usage\/2026\/12\/06\.csv$/);
    expect(sent[0].headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(sent[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
    expect(String(sent[0].body)).toBe('cluster,tasks\ndefault,1\n');
    expect(store.locationOf('usage/2026/12/06.csv')).toBe('s3://berth-costs-dev/usage/2026/12/06.csv');
  });

  it('fails with S3\'s error when the PUT is refused', async () => {
    const store = new S3CostExportStore({ client: clientAnswering(403, []), bucket: 'berth-costs-dev' });
    await expect(store.put('usage/2026/12/06.csv', 'x')).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
