import { isRetraceError, StoreError } from '../src/errors.js';
import { defaultStoreUrl, openStore } from '../src/store/open-store.js';
import type { EventStore } from '../src/store/types.js';
import type { GlobalOptions } from './options.js';
import { Output } from './output.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * What every command gets: the validated global options, stdout/stderr, and a scoped store. Commands return their exit
 * code instead of exiting, so they run the same in tests and in the binary (only main.ts calls process.exit).
 */
export class CommandContext {
  readonly out: Output;
  readonly err: Output;
  /** stderr is a terminal (progress redrawn in place) rather than a pipe or a CI log (plain lines); its width */
  readonly stderrTty: boolean;
  readonly stderrColumns: number;

  constructor(
    readonly globals: GlobalOptions,
    io: CliIo,
  ) {
    this.out = new Output(io.stdout);
    this.err = new Output(io.stderr);
    const tty = io.stderr as { isTTY?: boolean; columns?: number };
    this.stderrTty = tty.isTTY === true;
    this.stderrColumns = typeof tty.columns === 'number' && tty.columns > 0 ? tty.columns : 80;
  }

  get tenant(): string {
    return this.globals.tenant;
  }

  get json(): boolean {
    return this.globals.json;
  }

  /**
   * Opens the store, runs `fn`, and always closes it (a SQLite handle left open would hold the WAL). Commands that only
   * read pass `mustExist`, so a mistyped --store path is an error instead of a new empty store file.
   */
  async withStore<T>(fn: (store: EventStore) => Promise<T>, options: { mustExist?: boolean } = {}): Promise<T> {
    const url = this.globals.store ?? defaultStoreUrl();
    let store: EventStore;
    try {
      store = await openStore(url, { mustExist: options.mustExist ?? false });
    } catch (err) {
      if (isRetraceError(err)) throw err;
      // e.g. EACCES creating the store's folder: the library let a raw fs error through
      throw new StoreError(
        `Cannot open the store ${url}: ${err instanceof Error ? err.message : String(err)}.`,
        'Check --store / RETRACE_STORE, and that the folder exists and is writable.',
        { cause: err },
      );
    }
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }
}
