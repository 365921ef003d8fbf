import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound, isPreconditionFailed, translateS3Error } from './client.js';

/**
 * The few object operations the archive needs, each translating AWS errors into ours. Create-only writes check with
 * HeadObject first (s3rver and some S3-compatible servers ignore If-None-Match) and also send `IfNoneMatch: '*'`, so
 * that on real S3 a racing writer gets 412 instead of overwriting.
 */
export class S3Bucket {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly display: string,
  ) {}

  private where(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw translateS3Error(err, this.where(key));
    }
  }

  /** the object's bytes, or undefined when there is no such key */
  async get(key: string): Promise<Buffer | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!res.Body) return Buffer.alloc(0);
      return Buffer.from(await res.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw translateS3Error(err, this.where(key));
    }
  }

  /**
   * 'exists' when the key was already there: never overwrites. `checkedAbsent`: the caller looked for this key
   * moments ago (a GET that found nothing), so the HeadObject round trip is skipped.
   */
  async putIfAbsent(
    key: string,
    body: Buffer,
    contentType: string,
    checkedAbsent = false,
  ): Promise<'written' | 'exists'> {
    if (!checkedAbsent && (await this.exists(key))) return 'exists';
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
          IfNoneMatch: '*',
        }),
      );
      return 'written';
    } catch (err) {
      if (isPreconditionFailed(err)) return 'exists';
      throw translateS3Error(err, this.where(key));
    }
  }

  /**
   * One page of keys under `prefix`, ascending, after `marker`. ListObjects (v1) with Marker rather than V2: s3rver's
   * V2 continuation tokens fail against s3rver under OpenSSL 3 (its token encoding), and v1 paging is just as exact on real S3.
   */
  async listPage(
    prefix: string,
    marker: string | undefined,
    maxKeys: number,
  ): Promise<{ keys: string[]; truncated: boolean }> {
    try {
      const res = await this.client.send(
        new ListObjectsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: maxKeys,
          ...(marker !== undefined ? { Marker: marker } : {}),
        }),
      );
      const keys = (res.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === 'string');
      return { keys, truncated: res.IsTruncated === true && keys.length > 0 };
    } catch (err) {
      throw translateS3Error(err, `${this.display} (listing ${prefix})`);
    }
  }
}
