/** See leftovers.js: what a run left of the local modes it started (global-teardown.js and the benches check it). */
export function engineLeftovers(dataDirs: string[], env?: NodeJS.ProcessEnv): string[];
export function processLeftovers(dirs: string[]): string[];
