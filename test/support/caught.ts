/** What `fn` throws, or undefined: for asserting on an error's type and message together. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
