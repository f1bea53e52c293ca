import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CostExportStore } from '../cost-export';

/** The daily CSV files as objects in the stack's cost bucket, for Athena or a spreadsheet. */
export class S3CostExportStore implements CostExportStore {
  constructor(private readonly o: { client: S3Client; bucket: string }) {}

  locationOf(key: string): string {
    return `s3://${this.o.bucket}/${key}`;
  }

  async put(key: string, body: string): Promise<void> {
    await this.o.client.send(new PutObjectCommand({
      Bucket: this.o.bucket, Key: key, Body: body, ContentType: 'text/csv; charset=utf-8',
    }));
  }
}
