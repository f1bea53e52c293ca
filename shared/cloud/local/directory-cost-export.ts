import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CostExportStore } from '../cost-export';

/** The daily CSV files in a directory: `DIR/usage/2026/12/06.csv`. Written whole, then renamed, so a reader never sees half a file. */
export class DirectoryCostExportStore implements CostExportStore {
  constructor(private readonly dir: string) {}

  locationOf(key: string): string {
    return path.join(this.dir, ...key.split('/'));
  }

  async put(key: string, body: string): Promise<void> {
    const file = this.locationOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    await writeFile(partial, body);
    await rename(partial, file);
  }
}
