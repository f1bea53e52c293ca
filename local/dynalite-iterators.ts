/**
 * dynalite 4 answers each Query and Scan from a stream over an abstract-level iterator, and ends
 * that iterator, once the stream has ended or been destroyed, by calling `iterator.return()`.
 * abstract-level 3's iterators have no `return` (they end with `close()`), and dynalite calls it
 * only if it is there, so no iterator was ever closed. Each stayed in its database's open
 * resources for as long as the database was open, and memory-level's iterator holds the version of
 * the tree it began on, so every item version written after it stayed in memory as well: a local
 * mode kept some 3 more open iterators for every task it ran (heap snapshots after a full GC,
 * 80 and 280 tasks in), and its heap grew with them.
 *
 * Gives abstract-level's iterators the `return` dynalite expects: it closes the iterator, as an
 * async iterator's `return` ends it. Applied to the module dynalite's databases are made from, in
 * this process, whenever dynalite was or will be loaded. Returns whether it was applied now.
 */
export function closeDynaliteIterators(): boolean {
  // A static require, so a bundler leaves it to node_modules and jest's loader gives the module
  // dynalite's own requires get.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AbstractIterator } = require('abstract-level') as { AbstractIterator: { prototype: object } };
  // The base of the key, value and entry iterators alike.
  const common = Object.getPrototypeOf(AbstractIterator.prototype) as { return?: unknown };
  if (typeof common.return === 'function') return false;
  Object.defineProperty(common, 'return', {
    configurable: true,
    writable: true,
    value: async function (this: { close(): Promise<void> }) {
      await this.close();
      return { done: true, value: undefined };
    },
  });
  return true;
}
