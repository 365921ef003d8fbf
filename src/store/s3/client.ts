import { S3Client } from '@aws-sdk/client-s3';
import { RetraceError, StoreError } from '../../errors.js';
import type { S3Location } from './url.js';

/**
 * The S3 client, configured so that it works both with AWS and with S3-compatible servers (MinIO, s3rver, R2):
 * checksums only when an operation requires them — since SDK 3.729 the default sends streamed bodies `aws-chunked`
 * with a trailing CRC, which s3rver stores verbatim; our integrity check is the manifest's sha256 anyway.
 */
export function createS3Client(loc: S3Location): S3Client {
  // Node 20 is supported by the pinned SDK; its end-of-support notice would land in every CLI run's stderr
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    ...(loc.endpoint !== undefined ? { endpoint: loc.endpoint } : {}),
    region: loc.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: loc.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function httpStatusOf(err: unknown): number | undefined {
  return (err as AwsLikeError | null)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const e = err as AwsLikeError | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (httpStatusOf(err) === 404 && e?.name !== 'NoSuchBucket');
}

export function isPreconditionFailed(err: unknown): boolean {
  const e = err as AwsLikeError | null;
  return e?.name === 'PreconditionFailed' || httpStatusOf(err) === 412;
}

/** AWS SDK errors → ours, at the boundary: callers never see AWS types. */
export function translateS3Error(err: unknown, where: string): unknown {
  if (err instanceof RetraceError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? '';
  const status = httpStatusOf(err);
  if (name === 'NoSuchBucket') {
    return new StoreError(
      `The bucket of ${where} does not exist.`,
      'Create it first (aws s3 mb s3://BUCKET), or fix the bucket name in the URL.',
      { cause: err },
    );
  }
  if (
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'ExpiredToken' ||
    status === 403
  ) {
    return new StoreError(
      `S3 refused access to ${where} (${name || status}).`,
      'Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE and the bucket policy (needs s3:GetObject, s3:PutObject, s3:ListBucket).',
      { cause: err },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new StoreError(
      `No AWS credentials found for ${where}.`,
      'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is available.',
      { cause: err },
    );
  }
  const code = e.code ?? (err as { cause?: { code?: string } } | null)?.cause?.code;
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    name === 'TimeoutError'
  ) {
    return new StoreError(
      `Cannot reach the S3 endpoint for ${where} (${code ?? name}).`,
      'Check ?endpoint= in the store URL (or AWS_ENDPOINT_URL_S3) and that the server is running.',
      { cause: err },
    );
  }
  return new StoreError(
    `S3 request for ${where} failed (${name || 'error'}${status ? ` ${status}` : ''}): ${e.message ?? String(err)}`,
    'Retry; if it persists, check the endpoint, region and bucket.',
    { cause: err },
  );
}
