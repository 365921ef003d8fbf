import * as z from 'zod';
import { UnsupportedStoreUrlError } from '../../errors.js';

/**
 * `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=…`. Credentials never go in the URL: they come from the usual
 * AWS chain (env AWS_ACCESS_KEY_ID/…, ~/.aws, SSO, instance roles). Endpoint and region may also come from
 * AWS_ENDPOINT_URL_S3 / AWS_REGION, which the SDK reads itself.
 */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const ParamsSchema = z
  .object({
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/)
      .optional(),
    forcePathStyle: z
      .enum(['true', 'false', '1', '0'])
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  })
  .strict();

export interface S3Location {
  bucket: string;
  /** key prefix without leading or trailing '/', '' for the bucket root */
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  /** s3://bucket/prefix, for messages */
  display: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  const bucket = m?.[1];
  if (!m || bucket === undefined || !BUCKET.test(bucket)) {
    throw new UnsupportedStoreUrlError(
      `"${url}" is not an S3 archive URL.`,
      'Write s3://BUCKET/PREFIX (bucket: 3–63 lower-case letters, digits, "." and "-"), optionally with ?endpoint=http://host:9000 for MinIO and other S3-compatible servers.',
      'store',
    );
  }
  const prefix = (m[2] ?? '')
    .split('/')
    .filter((s) => s !== '')
    .join('/');
  if (prefix.split('/').some((s) => s === '.' || s === '..')) {
    throw new UnsupportedStoreUrlError(
      `The S3 prefix in "${url}" contains "." or "..".`,
      'Use a plain key prefix such as s3://bucket/retrace.',
      'store',
    );
  }
  const raw = Object.fromEntries(new URLSearchParams((m[3] ?? '').slice(1)));
  const params = ParamsSchema.safeParse(raw);
  if (!params.success) {
    const issue = params.error.issues[0];
    throw new UnsupportedStoreUrlError(
      `The S3 URL parameter ${issue?.path.join('.') || issue?.message || ''} in "${url}" is not valid (${issue?.message ?? 'invalid'}).`,
      'Supported: ?endpoint=http(s)://host:port, ?region=us-east-1, ?forcePathStyle=true|false.',
      'store',
    );
  }
  const { endpoint, region, forcePathStyle } = params.data;
  return {
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    // S3-compatible servers (MinIO, s3rver) rarely have virtual-host DNS, so a custom endpoint defaults to path style
    forcePathStyle: forcePathStyle ?? endpoint !== undefined,
    display: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
  };
}
