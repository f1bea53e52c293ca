import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { checked } from '../config/variables';
import { DEFAULT_CATALOG } from '../capacity/catalog';
import type { Market } from '../capacity/types';

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** Fargate's Linux rates for one architecture and market, in USD. */
export interface FargateRates {
  vcpuHour: number;
  gbHour: number;
}

/**
 * The prices a cost report uses, and where and when they were taken: every report names them.
 * Fargate Spot has no arm64 rate because Fargate Spot runs no arm64 task.
 */
export interface PriceCatalog {
  region: string;
  /** When the prices were taken (an ISO date), and from where. */
  takenAt: string;
  source: string;
  fargate: {
    x86_64: { onDemand: FargateRates; spot: FargateRates };
    arm64: { onDemand: FargateRates; spot?: FargateRates };
    /** Per GB-hour of ephemeral storage above the 20 GiB every task gets free. */
    ephemeralStorageGbHour: number;
  };
  /** EC2 hosts, USD per hour: what the fleet's bill is made of. */
  instances: Record<string, { onDemand: number; spot: number }>;
}

/**
 * Public list prices for us-east-1 (Linux). Fargate on-demand and ephemeral storage are AWS's
 * list prices; Fargate Spot floats, and these are a plausible level (about 70 % off), as the
 * EC2 spot prices of the capacity catalog are. An operator replaces any of them (see
 * loadPriceCatalog).
 */
export const DEFAULT_PRICES: PriceCatalog = {
  region: 'us-east-1',
  takenAt: '2026-11-01',
  source: 'Berth defaults: AWS public list prices, us-east-1 Linux; spot prices are typical levels',
  fargate: {
    x86_64: { onDemand: { vcpuHour: 0.04048, gbHour: 0.004445 }, spot: { vcpuHour: 0.01214398, gbHour: 0.00133327 } },
    arm64: { onDemand: { vcpuHour: 0.03238, gbHour: 0.00356 } },
    ephemeralStorageGbHour: 0.000111,
  },
  instances: Object.fromEntries(DEFAULT_CATALOG.map((t) => [t.name, { onDemand: t.onDemandPrice, spot: t.spotPrice }])),
};

const price = z.number().nonnegative().finite();
const rates = z.strictObject({ vcpuHour: price, gbHour: price });

/** What an operator may give: any part of the catalog; what it leaves out keeps its default. */
const override = z.strictObject({
  region: z.string().min(1).optional(),
  takenAt: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  fargate: z.strictObject({
    x86_64: z.strictObject({ onDemand: rates.optional(), spot: rates.optional() }).optional(),
    arm64: z.strictObject({ onDemand: rates.optional(), spot: rates.optional() }).optional(),
    ephemeralStorageGbHour: price.optional(),
  }).optional(),
  instances: z.record(z.string().min(1), z.strictObject({ onDemand: price, spot: price })).optional(),
});
export type PriceOverride = z.infer<typeof override>;

export class PriceCatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PriceCatalogError';
  }
}

/** The defaults with an operator's prices laid over them; instance types merge by name. */
export function withOverride(base: PriceCatalog, input: unknown, from: string): PriceCatalog {
  const parsed = override.safeParse(input);
  if (!parsed.success) {
    throw new PriceCatalogError(`${from}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  return {
    region: o.region ?? base.region,
    takenAt: o.takenAt ?? base.takenAt,
    source: o.source ?? from,
    fargate: {
      x86_64: { ...base.fargate.x86_64, ...o.fargate?.x86_64 },
      arm64: { ...base.fargate.arm64, ...o.fargate?.arm64 },
      ephemeralStorageGbHour: o.fargate?.ephemeralStorageGbHour ?? base.fargate.ephemeralStorageGbHour,
    },
    instances: { ...base.instances, ...o.instances },
  };
}

/**
 * The prices in force: BERTH_PRICES (the JSON itself) or BERTH_PRICES_FILE (a JSON file), laid
 * over the defaults; neither set, the defaults.
 */
export function loadPriceCatalog(env: NodeJS.ProcessEnv = process.env, base: PriceCatalog = DEFAULT_PRICES): PriceCatalog {
  const read = (text: string, from: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new PriceCatalogError(`${from}: not JSON (${e instanceof Error ? e.message : e})`, { cause: e });
    }
  };
  if (env.BERTH_PRICES) return withOverride(base, read(env.BERTH_PRICES, 'BERTH_PRICES'), 'BERTH_PRICES');
  const file = env.BERTH_PRICES_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new PriceCatalogError(`BERTH_PRICES_FILE: cannot read ${file} (${e instanceof Error ? e.message : e})`, { cause: e });
    }
    return withOverride(base, read(text, `BERTH_PRICES_FILE ${file}`), `BERTH_PRICES_FILE ${file}`);
  }
  return base;
}

/** USD per hour for a host, or undefined when the catalog has no price for its type. */
export function hostHourlyPrice(prices: PriceCatalog, instanceType: string | undefined, market: Market): number | undefined {
  const p = instanceType === undefined ? undefined : prices.instances[instanceType];
  return p === undefined ? undefined : market === 'spot' ? p.spot : p.onDemand;
}

/** The operator's prices, as `npm start` and the Lambda functions read them (see loadPriceCatalog). */
export const PRICE_VARIABLES = {
  BERTH_PRICES: checked('a JSON price catalog over the defaults (README: "The price catalog")', (s) => loadPriceCatalog({ BERTH_PRICES: s })),
  BERTH_PRICES_FILE: checked('a readable JSON price catalog file (README: "The price catalog")', (s) => loadPriceCatalog({ BERTH_PRICES_FILE: s })),
};

/** The catalog those variables give, as readEnvironment returned them; the defaults when neither is set. */
export const pricesOf = (v: { BERTH_PRICES?: PriceCatalog; BERTH_PRICES_FILE?: PriceCatalog }): PriceCatalog =>
  v.BERTH_PRICES ?? v.BERTH_PRICES_FILE ?? DEFAULT_PRICES;
