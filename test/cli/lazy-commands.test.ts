import { describe, expect, it } from 'vitest';
import { commandsFor, runCli } from '../../replay-cli/program.js';

/**
 * The CLI imports a command's code only when argv names it (replay-cli/program.ts): which commands get registered for
 * an argv, and that what the user sees does not depend on it (help lists every command, a typo gets its suggestion).
 */

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) },
      stderr: { write: (s: string) => ((err += s), true) },
    } as unknown as Parameters<typeof runCli>[1],
    out: () => out,
    err: () => err,
  };
}

describe('commands are loaded per argv', () => {
  it.each([
    [['list'], ['list']],
    [['--store', 'sqlite:x.db', '--tenant', 'acme', 'ui', '--port', '0'], ['ui']],
    [['--json', 'show', 'tr-1'], ['show']],
    [['help', 'replay'], ['replay']],
    [['--version'], []],
    [['-V'], []],
  ])('%j registers %j', (argv, expected) => {
    expect(commandsFor(argv)).toEqual(expected);
  });

  it('help, no command and an unknown one load every command', () => {
    for (const argv of [['--help'], [], ['lst'], ['help']]) expect(commandsFor(argv).length).toBeGreaterThan(10);
  });

  it('--help still lists every command, and a typo still gets the nearest one', async () => {
    const help = io();
    expect(await runCli(['--help'], help.io)).toBe(0);
    for (const name of ['record', 'replay', 'ci', 'ui', 'collect', 'stub']) expect(help.out()).toContain(name);
    const typo = io();
    expect(await runCli(['lst'], typo.io)).toBe(2);
    expect(typo.err()).toContain('Did you mean list?');
    const version = io();
    expect(await runCli(['--version'], version.io)).toBe(0);
    expect(version.out()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
