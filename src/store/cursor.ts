import * as z from 'zod';
import { ValidationError } from '../errors.js';

/** Keyset cursor for `list`: the (startedAt, traceId) of the last trace on the previous page, newest first. */
const CursorSchema = z.tuple([z.string(), z.string()]);
export type ListCursor = z.infer<typeof CursorSchema>;

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string): ListCursor {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch (err) {
    throw new ValidationError(
      `The list cursor "${raw.slice(0, 40)}" is not one this store issued.`,
      'Pass the nextCursor value from the previous page unchanged, or omit it to start from the newest trace.',
      'cursor',
      { cause: err },
    );
  }
}
