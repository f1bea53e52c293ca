import { LazyClient } from '../../agent/lazy-client';

/** A stand-in for an SDK module: its client records what it is sent. */
function fakeSdk() {
  const sent: string[] = [];
  let destroyed = 0;
  class Client {
    send(command: string): Promise<string> {
      sent.push(command);
      return Promise.resolve(`answer to ${command}`);
    }
    destroy(): void {
      destroyed++;
    }
  }
  return { sdk: { Client }, sent, destroyed: () => destroyed };
}

describe('LazyClient', () => {
  it('loads the SDK and makes the client at the first send only, once for every later one', async () => {
    // Prepare
    const { sdk, sent } = fakeSdk();
    const load = jest.fn(async () => sdk);
    const client = new LazyClient(load, (s) => new s.Client());

    // Act and assess: nothing loaded until it is used.
    expect(load).not.toHaveBeenCalled();
    const answers = await Promise.all([client.send('a'), client.send('b')]);
    await client.send('c');

    // Assess
    expect(load).toHaveBeenCalledTimes(1);
    expect(answers).toEqual(['answer to a', 'answer to b']);
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('tries the load again after a failed one', async () => {
    // Prepare
    const { sdk } = fakeSdk();
    const load = jest.fn<Promise<typeof sdk>, []>().mockRejectedValueOnce(new Error('cannot load')).mockResolvedValue(sdk);
    const client = new LazyClient(load, (s) => new s.Client());

    // Act and assess
    await expect(client.send('a')).rejects.toThrow('cannot load');
    await expect(client.send('a')).resolves.toBe('answer to a');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('destroys only a client it made', async () => {
    // Prepare
    const never = fakeSdk();
    const used = fakeSdk();
    const unused = new LazyClient(async () => never.sdk, (s) => new s.Client());
    const client = new LazyClient(async () => used.sdk, (s) => new s.Client());
    await client.get();

    // Act
    unused.destroy();
    client.destroy();
    await new Promise((r) => setImmediate(r));

    // Assess
    expect(never.destroyed()).toBe(0);
    expect(used.destroyed()).toBe(1);
  });
});
