/**
 * Incremental SSE framing. Network reads cut a stream anywhere; the recorder stores one chunk per complete SSE event
 * (its raw text, separator included), stamped with the time its last byte arrived. That makes the recording independent
 * of TCP chunking — a replay that re-emits the chunks and a new recording of that replay produce the same chunk list —
 * while concatenating the chunks still gives back the exact bytes the caller received.
 */
export interface SseFrame {
  /** raw text of the event including its trailing blank line */
  raw: string;
  event?: string;
  data: string;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/;

export class SseSplitter {
  private buffer = '';

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseFrame[] {
    this.buffer += text;
    const frames: SseFrame[] = [];
    for (;;) {
      const m = BOUNDARY.exec(this.buffer);
      if (!m) break;
      const end = m.index + m[0].length;
      const raw = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end);
      frames.push(parseFrame(raw));
    }
    return frames;
  }

  /** Whatever is left at the end of the stream (an unterminated last event), if anything. */
  flush(): SseFrame | undefined {
    if (this.buffer === '') return undefined;
    const raw = this.buffer;
    this.buffer = '';
    return parseFrame(raw);
  }
}

function parseFrame(raw: string): SseFrame {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { raw, ...(event !== undefined ? { event } : {}), data: data.join('\n') };
}
