import { formatEmf } from './emf';
import type { MetricsSink } from './sink';

/**
 * Metrics as EMF records on a Lambda function's own output: CloudWatch extracts them from the
 * function's log group as it does from /berth/metrics, with no Logs call and no grant.
 */
export class StdoutEmfSink implements MetricsSink {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  async publish(data: Parameters<MetricsSink['publish']>[0]): Promise<void> {
    if (data.length === 0) return;
    for (const record of formatEmf(data)) this.write(JSON.stringify(record));
  }
}
