import { deflateRawSync, inflateRawSync, constants as zlib } from 'node:zlib';
import type { StoredEvent } from '../events/envelope.js';

/**
 * Where one side's compared events wait between being read and being reported. Most are never looked at again: a
 * report shows only the differing events and a few around each (diff-traces.ts), so a stash for a stream keeps as
 * little as it can — see StreamStash.
 */
export interface EventStash {
  /** event `i` (an index into the side's compared events) may be needed later; `release` may still drop it */
  hold(i: number, event: StoredEvent): void;
  /** event `i` will not be needed */
  release(i: number): void;
  /** event `i` is needed until the end; indices passed here are consecutive */
  keep(i: number, event: StoredEvent): void;
  get(i: number): StoredEvent;
}

/**
 * For events given as an array: the caller holds them anyway, so keeping references costs nothing and nothing is
 * released or copied.
 */
export class ArrayStash implements EventStash {
  private readonly events: StoredEvent[] = [];
  hold(i: number, event: StoredEvent): void {
    this.events[i] = event;
  }
  release(): void {}
  keep(i: number, event: StoredEvent): void {
    this.events[i] = event;
  }
  get(i: number): StoredEvent {
    return this.events[i] ?? missing(i);
  }
}

/** events per compressed block: large enough for deflate to find the repetition between events, small to re-read */
const BLOCK_EVENTS = 256;

/**
 * For streamed events (a store read, a generator): the events still held (`hold`) as objects in a map, and those kept
 * to the end (`keep`) as JSON text, deflated in blocks of 256. On bench/diff.bench.ts's traces a parsed event costs
 * about 1 KB of heap and its deflated text a few dozen bytes (real hashes and ids compress less). A kept event is
 * parsed again when asked for: events are JSON data (StoredEvent, as a store returns them), so the round trip gives
 * the same event; only values JSON has no spelling for (undefined, NaN, a Date) would come back changed.
 */
export class StreamStash implements EventStash {
  private readonly held = new Map<number, StoredEvent>();
  private first = -1;
  private pending: string[] = [];
  private readonly blocks: Buffer[] = [];
  private cached: { block: number; lines: string[] } | undefined;

  hold(i: number, event: StoredEvent): void {
    this.held.set(i, event);
  }

  release(i: number): void {
    this.held.delete(i);
  }

  keep(i: number, event: StoredEvent): void {
    if (this.first < 0) this.first = i;
    if (i !== this.first + this.blocks.length * BLOCK_EVENTS + this.pending.length)
      throw new Error(`diff: stash.keep(${i}) out of order`);
    this.pending.push(JSON.stringify(event));
    if (this.pending.length === BLOCK_EVENTS) {
      this.blocks.push(deflateRawSync(this.pending.join('\n'), { level: zlib.Z_BEST_SPEED }));
      this.pending = [];
    }
  }

  get(i: number): StoredEvent {
    const held = this.held.get(i);
    if (held) return held;
    const rel = i - this.first;
    if (this.first < 0 || rel < 0) return missing(i);
    const block = Math.floor(rel / BLOCK_EVENTS);
    const lines = block === this.blocks.length ? this.pending : this.linesOf(block);
    const line = lines[rel % BLOCK_EVENTS];
    return line === undefined ? missing(i) : (JSON.parse(line) as StoredEvent);
  }

  private linesOf(block: number): string[] {
    if (this.cached?.block === block) return this.cached.lines;
    const data = this.blocks[block];
    if (!data) return [];
    const lines = inflateRawSync(data).toString('utf8').split('\n');
    this.cached = { block, lines };
    return lines;
  }
}

function missing(i: number): never {
  throw new Error(`diff: event ${i} was not kept for the report`);
}
