import { ensureTables } from '../../dynalite';
import { DEFAULT_TABLE_PREFIX } from '../../../shared/store/tables';

/**
 * The local Step Functions slice's tables (on AWS the real service keeps these). Executions are
 * keyed by their state machine's name and their own, so ListExecutions is one Query; history
 * events by execution and id, so GetExecutionHistory pages with one Query.
 */
export const STATES_TABLES = {
  machines: { suffix: 'states-machines', hashKey: 'scope', rangeKey: 'name' },
  executions: { suffix: 'states-executions', hashKey: 'stateMachineName', rangeKey: 'name' },
  history: { suffix: 'states-history', hashKey: 'executionArn', rangeKey: 'id', keyTypes: { id: 'N' as const } },
} as const;

export type StatesTableNames = Record<keyof typeof STATES_TABLES, string>;

export async function createStatesTables(endpoint: string, prefix = DEFAULT_TABLE_PREFIX): Promise<StatesTableNames> {
  const names = Object.fromEntries(Object.entries(STATES_TABLES).map(([k, t]) => [k, `${prefix}${t.suffix}`])) as StatesTableNames;
  await ensureTables(endpoint, (Object.keys(STATES_TABLES) as (keyof typeof STATES_TABLES)[]).map((key) => ({ name: names[key], ...STATES_TABLES[key] })));
  return names;
}
