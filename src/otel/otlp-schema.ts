import * as z from 'zod';

/**
 * OTLP/JSON `ExportTraceServiceRequest`, as OTel SDKs, the Collector's file exporter and `retrace export` write it:
 * ids are hex strings, times decimal strings (or numbers) of nanoseconds, attributes a list of {key, value: AnyValue}.
 * Input is untrusted: every field retrace reads is checked here, the rest is passed over.
 */

type AnyValueJson =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string | number }
  | { doubleValue: number | string }
  | { bytesValue: string }
  | { arrayValue: { values?: AnyValueJson[] } }
  | { kvlistValue: { values?: { key: string; value?: AnyValueJson }[] } }
  | Record<string, never>;

export const AnyValueSchema: z.ZodType<AnyValueJson> = z.lazy(() =>
  z.union([
    z.object({ stringValue: z.string() }),
    z.object({ boolValue: z.boolean() }),
    z.object({ intValue: z.union([z.string().regex(/^-?\d+$/, 'must be an integer'), z.number().int()]) }),
    z.object({ doubleValue: z.union([z.number(), z.string()]) }),
    z.object({ bytesValue: z.string() }),
    z.object({ arrayValue: z.object({ values: z.array(AnyValueSchema).optional() }) }),
    z.object({
      kvlistValue: z.object({
        values: z.array(z.object({ key: z.string(), value: AnyValueSchema.optional() })).optional(),
      }),
    }),
    z.object({}).strict(),
  ]),
) as z.ZodType<AnyValueJson>;

export const KeyValueSchema = z.object({ key: z.string().max(1024), value: AnyValueSchema.optional() });

const nanos = z.union([
  z.string().regex(/^\d+$/, 'must be a decimal count of nanoseconds'),
  z.number().int().nonnegative(),
]);
/** hex (the OTLP/JSON rule), or base64 as some older writers used */
const traceIdText = z.string().min(1, 'must not be empty').max(64);

export const OtlpSpanSchema = z.object({
  traceId: traceIdText,
  spanId: traceIdText,
  parentSpanId: z.string().max(64).optional(),
  name: z.string().max(4096),
  kind: z.union([z.number().int().min(0).max(5), z.string()]).optional(),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: z.array(KeyValueSchema).optional(),
  events: z
    .array(
      z.object({ timeUnixNano: nanos.optional(), name: z.string(), attributes: z.array(KeyValueSchema).optional() }),
    )
    .optional(),
  status: z
    .object({ code: z.union([z.number().int(), z.string()]).optional(), message: z.string().optional() })
    .optional(),
});
export type OtlpSpanJson = z.infer<typeof OtlpSpanSchema>;

export const ExportTraceServiceRequestSchema = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: z.array(KeyValueSchema).optional() }).optional(),
      scopeSpans: z
        .array(
          z.object({
            scope: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
            spans: z.array(OtlpSpanSchema).optional(),
          }),
        )
        .optional(),
    }),
  ),
});
export type ExportTraceServiceRequestJson = z.infer<typeof ExportTraceServiceRequestSchema>;
