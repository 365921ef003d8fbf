import objectHash from 'object-hash';

/**
 * Tool-call identity: tool arguments are live JS values (Dates, Maps, undefined, class instances), which
 * is what object-hash handles and canonical JSON does not. respectType:false so that a plain object and a
 * class instance (or null-prototype object) with the same fields are the same arguments; key order never matters.
 */
export function toolArgsHash(tool: string, args: unknown): string {
  return objectHash(
    { tool, args: args === undefined ? null : args },
    { algorithm: 'sha256', respectType: false, unorderedObjects: true },
  );
}
