/**
 * CreateMultipartUpload (`POST /{bucket}/{key}?uploads`): starts an upload. What the object will
 * carry (content headers, user metadata, tags, storage class) is given here and kept with the
 * upload until completion makes the object, as is the checksum algorithm (and type) every part will
 * carry and completion will combine.
 */
import type { NewMultipartUploadOptions } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { checksumAlgorithm, checksumType, header, storageClass } from '../headers';
import { initiateMultipartUploadResult } from '../xml';
import { checkAclHeaders } from './acl';
import { checkKey, metadataFromHeaders, tagsFromHeader } from './objectCommon';
import { lockOptionsForWrite, parseLockHeaders } from './objectLock';

export const CreateMultipartUpload: Op<'CreateMultipartUpload'> = async (ctx) => {
  const { bucket, key } = ctx.route;
  const h = ctx.headers;
  checkKey(key);
  checkAclHeaders(h, 'object', { ignoreCanned: true });
  const opts: NewMultipartUploadOptions = {
    ...metadataFromHeaders(h),
    tags: tagsFromHeader(h),
  };
  const sc = storageClass(h);
  if (sc !== undefined) opts.storageClass = sc;

  // AWS: the algorithm the parts' checksums will use; the response repeats it.
  const algName = header(h, 'x-amz-checksum-algorithm');
  const algorithm = algName === undefined ? undefined : checksumAlgorithm(algName);
  if (algName !== undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', {
      message:
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    });
  }
  const type = checksumType(h);
  if (type !== undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', {
      message: 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    });
  }
  // AWS: CRC64NVME is full-object only; SHA1 and SHA256 are composite only.
  const effectiveType = type ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (
    algorithm !== undefined &&
    ((algorithm === 'CRC64NVME' && effectiveType !== 'FULL_OBJECT') ||
      ((algorithm === 'SHA1' || algorithm === 'SHA256') && effectiveType !== 'COMPOSITE'))
  ) {
    throw new S3Error('InvalidRequest', {
      message: `The ${effectiveType} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    });
  }

  if (algorithm !== undefined) {
    opts.checksumAlgorithm = algorithm;
    opts.checksumType = effectiveType;
  }
  // Object Lock headers are kept with the upload; the bucket's default retention is applied at completion.
  Object.assign(
    opts,
    await lockOptionsForWrite(ctx, bucket, parseLockHeaders(h), { defaultRetention: false }),
  );
  const uploadId = await ctx.objects.newMultipartUpload(bucket, key, opts);
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  if (algorithm !== undefined) {
    headers['x-amz-checksum-algorithm'] = algorithm;
    headers['x-amz-checksum-type'] = effectiveType;
  }
  return { status: 200, headers, body: initiateMultipartUploadResult({ bucket, key, uploadId }) };
};
