/**
 * Where the meter's daily CSV files go: an S3 bucket on AWS (shared/cloud/aws/s3-cost-export.ts),
 * a directory locally (shared/cloud/local/directory-cost-export.ts). A put of a key that exists
 * replaces it, so writing a day's file again (each hour, or twice) is harmless.
 */
export interface CostExportStore {
  put(key: string, body: string): Promise<void>;
  /** Where a key lands, for logs: `s3://bucket/key` or a path. */
  locationOf(key: string): string;
}
