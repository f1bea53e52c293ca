import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OPERATOR_TARGET_PREFIX } from '../shared/agent-api/operator';
import { costCsv, costTable } from '../shared/billing/format';
import { costHtml } from '../shared/billing/html';
import type { CostReport } from '../shared/billing/report';
import { pick, readEnvironment, url } from '../shared/config/variables';
import { LOCAL_VARIABLES } from './config';

const USAGE = `Usage: npm run cost -- [--since 24h | --from TIME [--to TIME]] [--group-by DIM[,DIM...]] [--json | --csv] [--html FILE]
  --since      a duration back from now: 30m, 24h, 7d (default 24h)
  --from/--to  ISO 8601 times or epoch milliseconds (--to defaults to now)
  --group-by   cluster, service, family, startedBy, market, instanceType, task, or tag:KEY (comma-separated)
  --json       the whole report as JSON (amounts in integer micro-dollars)
  --csv        one line per group
  --html FILE  also write an HTML report with a chart of cost over time
  --bucket S   the chart's step in seconds (default 3600)
Talks to BERTH_ENDPOINT (default http://127.0.0.1:$BERTH_PORT) with the operator's key: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, else the key \`npm start\` saved in BERTH_DATA_DIR.`;

class UsageError extends Error {}

/** The operator call, signed with SigV4 as every Berth API call is. */
async function getCostReport(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, body: object, region: string): Promise<CostReport> {
  const target = new URL('/operator', endpoint);
  const payload = JSON.stringify(body);
  // Signed for the home region (BERTH_REGION), whose usage the report is of.
  const signer = new SignatureV4({ service: 'ecs', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(new HttpRequest({
    method: 'POST', protocol: target.protocol, hostname: target.hostname, port: target.port ? Number(target.port) : undefined, path: target.pathname,
    headers: { host: target.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${OPERATOR_TARGET_PREFIX}GetCostReport` },
    body: payload,
  }));
  const res = await fetch(target, { method: 'POST', headers: signed.headers as Record<string, string>, body: payload, signal: AbortSignal.timeout(120_000) });
  const json = (await res.json()) as CostReport & { __type?: string; message?: string };
  if (!res.ok) throw new Error(`${json.__type ?? res.status}: ${json.message ?? res.statusText}`);
  return json;
}

/** `npm run cost`: the meter's report of a period, from a running Berth. Progress goes to stderr, the report to stdout. */
async function main(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' },
        json: { type: 'boolean' }, csv: { type: 'boolean' }, html: { type: 'string' }, bucket: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.json && args.csv) throw new UsageError('give --json or --csv, not both');
  if (args.bucket !== undefined && !/^\d+$/.test(args.bucket)) throw new UsageError('--bucket: a whole number of seconds');
  const v = readEnvironment({ ...pick(LOCAL_VARIABLES, 'BERTH_PORT', 'BERTH_DATA_DIR', 'BERTH_REGION'), BERTH_ENDPOINT: url() }, process.env);
  const endpoint = v.BERTH_ENDPOINT ?? `http://127.0.0.1:${v.BERTH_PORT}`;
  const saved = join(v.BERTH_DATA_DIR, 'credentials.json');
  const credentials = process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY }
    : existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) : undefined;
  if (!credentials) throw new UsageError(`no operator key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or start Berth once (npm start) to save one in ${saved}`);

  const groupBy = args['group-by']?.split(',').map((d) => d.trim()).filter(Boolean);
  const query = {
    ...(args.since !== undefined ? { since: args.since } : {}), ...(args.from !== undefined ? { from: args.from } : {}),
    ...(args.to !== undefined ? { to: args.to } : {}), ...(groupBy ? { groupBy } : {}),
    ...(args.bucket !== undefined ? { bucketSeconds: Number(args.bucket) } : {}),
  };
  const began = Date.now();
  process.stderr.write(`cost: asking ${endpoint} for the report${args.since ? ` of the last ${args.since}` : args.from ? ` from ${args.from}` : ' of the last 24h'}` +
    `${groupBy?.length ? `, by ${groupBy.join(', ')}` : ''}...\n`);
  const report = await getCostReport(endpoint, credentials, query, v.BERTH_REGION);
  process.stderr.write(`cost: ${report.totals.tasks} task(s) in ${report.groups.length} group(s) in ${Date.now() - began} ms; prices: ${report.prices.source}, taken ${report.prices.takenAt}\n`);
  if (args.html) {
    writeFileSync(args.html, costHtml(report));
    process.stderr.write(`cost: wrote the HTML report to ${args.html}\n`);
  }
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : args.csv ? costCsv(report) : costTable(report));
}

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) console.error(`cost: ${e.message}\n\n${USAGE}`);
  else console.error(`cost: ${e instanceof Error ? e.message : e}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
