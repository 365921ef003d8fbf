// A TypeScript agent that starts a host process through the internal ChildProcess class (not child_process.spawn).
import { ChildProcess } from 'node:child_process';

export async function spawnHost(input: { marker: string }): Promise<unknown> {
  try {
    const child = new ChildProcess();
    (child as unknown as { spawn(options: unknown): void }).spawn({
      file: '/bin/sh',
      args: ['/bin/sh', '-c', `touch '${input.marker}'`],
      envPairs: [],
      stdio: [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }],
    });
    return { spawned: true };
  } catch (err) {
    return { spawned: false, code: (err as { code?: string }).code };
  }
}
