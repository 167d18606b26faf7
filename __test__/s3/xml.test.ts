import assert from 'node:assert/strict';
import { test } from 'uvu';
import { isS3Error, type S3Error, type S3ErrorCode } from '../../src/s3/errors';
import * as x from '../../src/s3/xml';

/** An element tree without order or layout whitespace, to compare a document with AWS's example. */
type Canon = { name: string; text: string; children: Canon[] };
function canon(n: x.XmlNode): Canon {
  const children = n.children.map(canon).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { name: n.name, text: n.children.length > 0 ? '' : n.text, children };
}
function sameElements(rendered: string, awsExample: string) {
  assert.deepEqual(canon(x.parseXml(rendered, 1 << 20)), canon(x.parseXml(awsExample, 1 << 20)));
}

function throwsS3(f: () => unknown, code: S3ErrorCode, message?: RegExp): S3Error {
  try {
    f();
  } catch (e) {
    assert.ok(isS3Error(e), `not an S3Error: ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const OWNER = {
  id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a',
  displayName: 'mtd@amazon.com',
};
const T = new Date('2009-10-12T17:50:30.000Z');

// --- Rendering ---------------------------------------------------------------------------------------

test('renderXml writes the declaration, the S3 namespace and elements in key order', () => {
  assert.equal(
    x.renderXml('Root', { B: 'b', A: 1, C: [true, false], D: undefined, E: null, F: { G: T } }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<B>b</B><A>1</A><C>true</C><C>false</C><E></E><F><G>2009-10-12T17:50:30.000Z</G></F></Root>',
  );
  assert.equal(
    x.renderXml('Error', {}, { xmlns: false }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error></Error>',
  );
});

test('escapeXml escapes markup and writes control characters as character references', () => {
  assert.equal(x.escapeXml(`a&b<c>d"e'f`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f');
  assert.equal(x.escapeXml('l1\r\nl2\tx\u0001\u007f'), 'l1&#xD;&#xA;l2&#x9;x&#x1;&#x7F;');
  assert.equal(x.escapeXml('日本 é'), '日本 é');
  // and they come back through the parser
  const key = 'we\u0001ird\r\n\t<&>"\' key';
  const doc = x.deleteResult({ deleted: [{ key }], errors: [] });
  assert.equal(x.parseXml(doc, 1 << 20).children[0]!.children[0]!.text, key);
});

test('ListAllMyBucketsResult has the elements of the AWS example', () => {
  const doc = x.listAllMyBucketsResult({
    owner: { id: 'AIDACKCEVSQ6C2EXAMPLE', displayName: 'Account+Name' },
    buckets: [{ name: 'amzn-s3-demo-bucket', creationDate: new Date('2019-12-11T23:32:47.000Z') }],
  });
  sameElements(
    doc,
    `<ListAllMyBucketsResult>
      <Buckets><Bucket><CreationDate>2019-12-11T23:32:47.000Z</CreationDate><Name>amzn-s3-demo-bucket</Name></Bucket></Buckets>
      <Owner><DisplayName>Account+Name</DisplayName><ID>AIDACKCEVSQ6C2EXAMPLE</ID></Owner>
    </ListAllMyBucketsResult>`,
  );
  assert.match(doc, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ListAllMyBucketsResult xmlns=/);
});

const entry: x.ListEntry = {
  key: 'my-image.jpg',
  lastModified: T,
  etag: 'fba9dede5f27731c9771645a39863328',
  size: 434234,
  storageClass: 'STANDARD',
};

test('ListBucketResult (v1) has the elements, order and quoting of the AWS example', () => {
  const doc = x.listBucketResultV1({
    bucket: 'bucket',
    maxKeys: 1000,
    isTruncated: false,
    contents: [{ ...entry, owner: OWNER }],
    commonPrefixes: [],
  });
  assert.equal(
    doc,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Name>bucket</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>' +
      '<Contents><Key>my-image.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>' +
      '<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass>' +
      `<Owner><ID>${OWNER.id}</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></Contents></ListBucketResult>`,
  );
  sameElements(
    doc,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Name>bucket</Name>
      <Prefix/>
      <Marker/>
      <MaxKeys>1000</MaxKeys>
      <IsTruncated>false</IsTruncated>
      <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner>
          <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
          <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
      </Contents>
    </ListBucketResult>`,
  );
});

test('ListBucketResult (v1) with a delimiter writes NextMarker and CommonPrefixes', () => {
  const doc = x.listBucketResultV1({
    bucket: 'example-bucket',
    prefix: 'photos/2006/',
    delimiter: '/',
    marker: '',
    nextMarker: 'photos/2006/January/',
    maxKeys: 1,
    isTruncated: true,
    contents: [],
    commonPrefixes: ['photos/2006/January/'],
  });
  sameElements(
    doc,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Name>example-bucket</Name><Prefix>photos/2006/</Prefix><Marker></Marker><NextMarker>photos/2006/January/</NextMarker>
      <MaxKeys>1</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
      <CommonPrefixes><Prefix>photos/2006/January/</Prefix></CommonPrefixes>
    </ListBucketResult>`,
  );
});

test('ListBucketResult (v2) has the elements of the AWS example, KeyCount counting prefixes too', () => {
  const doc = x.listBucketResultV2({
    bucket: 'bucket',
    maxKeys: 1000,
    isTruncated: false,
    contents: [entry],
    commonPrefixes: [],
  });
  sameElements(
    doc,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Name>bucket</Name>
      <Prefix/>
      <KeyCount>1</KeyCount>
      <MaxKeys>1000</MaxKeys>
      <IsTruncated>false</IsTruncated>
      <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
      </Contents>
    </ListBucketResult>`,
  );
  const truncated = x.listBucketResultV2({
    bucket: 'b',
    maxKeys: 2,
    isTruncated: true,
    continuationToken: 'c1',
    nextContinuationToken: 'c2',
    startAfter: 'a',
    contents: [entry],
    commonPrefixes: ['p/'],
  });
  assert.match(
    truncated,
    /<ContinuationToken>c1<\/ContinuationToken><NextContinuationToken>c2<\/NextContinuationToken><StartAfter>a<\/StartAfter><KeyCount>2<\/KeyCount>/,
  );
});

test('encoding-type=url encodes keys, prefixes, markers and delimiters, and says so', () => {
  const doc = x.listBucketResultV2({
    bucket: 'b',
    prefix: 'a b/',
    delimiter: '/',
    encodingType: 'url',
    maxKeys: 10,
    isTruncated: false,
    contents: [{ ...entry, key: 'a b/c+d\r&é' }],
    commonPrefixes: ['a b/x\u0001/'],
  });
  assert.match(doc, /<Prefix>a\+b\/<\/Prefix>/);
  assert.match(doc, /<EncodingType>url<\/EncodingType>/);
  assert.match(doc, /<Key>a\+b\/c%2Bd%0D%26%C3%A9<\/Key>/);
  assert.match(doc, /<CommonPrefixes><Prefix>a\+b\/x%01\/<\/Prefix><\/CommonPrefixes>/);
  assert.equal(x.s3UrlEncode("it's (1)*!~"), 'it%27s+%281%29%2A%21~');
});

test('ListVersionsResult interleaves versions and delete markers as given, like the AWS example', () => {
  const doc = x.listVersionsResult({
    bucket: 'bucket',
    prefix: 'my',
    maxKeys: 5,
    isTruncated: false,
    commonPrefixes: [],
    entries: [
      { ...entry, kind: 'version', versionId: '3/L4kqtJl40Nr8X8gdRQBpUMLUo', isLatest: true, owner: OWNER },
      {
        kind: 'deleteMarker',
        key: 'my-second-image.jpg',
        versionId: '03jpff543dhffds434rfdsFDN943fdsFkdmqnh892',
        isLatest: true,
        lastModified: new Date('2009-11-12T17:50:30.000Z'),
        owner: OWNER,
      },
      {
        ...entry,
        key: 'my-second-image.jpg',
        kind: 'version',
        versionId: 'QUpfdndhfd8438MNFDN93jdnJFkdmqnh893',
        isLatest: false,
        owner: OWNER,
      },
    ],
  });
  const aws = `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name><Prefix>my</Prefix><KeyMarker/><VersionIdMarker/><MaxKeys>5</MaxKeys><IsTruncated>false</IsTruncated>
    <Version><Key>my-image.jpg</Key><VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId><IsLatest>true</IsLatest>
      <LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size>
      <StorageClass>STANDARD</StorageClass><Owner><ID>${OWNER.id}</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></Version>
    <DeleteMarker><Key>my-second-image.jpg</Key><VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId><IsLatest>true</IsLatest>
      <LastModified>2009-11-12T17:50:30.000Z</LastModified><Owner><ID>${OWNER.id}</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></DeleteMarker>
    <Version><Key>my-second-image.jpg</Key><VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId><IsLatest>false</IsLatest>
      <LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size>
      <StorageClass>STANDARD</StorageClass><Owner><ID>${OWNER.id}</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></Version>
  </ListVersionsResult>`;
  sameElements(doc, aws);
  const order = x.parseXml(doc, 1 << 20).children.map((c) => c.name);
  assert.deepEqual(order.slice(-3), ['Version', 'DeleteMarker', 'Version']);
});

test('multipart upload documents have the elements of the AWS examples', () => {
  sameElements(
    x.initiateMultipartUploadResult({
      bucket: 'example-bucket',
      key: 'example-object',
      uploadId: 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA',
    }),
    `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Bucket>example-bucket</Bucket><Key>example-object</Key>
      <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    </InitiateMultipartUploadResult>`,
  );
  sameElements(
    x.completeMultipartUploadResult({
      location: 'http://Example-Bucket.s3.region.amazonaws.com/Example-Object',
      bucket: 'Example-Bucket',
      key: 'Example-Object',
      etag: '"3858f62230ac3c915f300c664312c11f-9"',
    }),
    `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
      <Bucket>Example-Bucket</Bucket><Key>Example-Object</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
    </CompleteMultipartUploadResult>`,
  );
  const initiator = { id: 'arn:aws:iam::111122223333:user/some-user', displayName: 'umat-user' };
  sameElements(
    x.listPartsResult({
      bucket: 'example-bucket',
      key: 'example-object',
      uploadId: 'XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA',
      initiator,
      owner: { id: OWNER.id, displayName: 'someName' },
      storageClass: 'STANDARD',
      partNumberMarker: 1,
      nextPartNumberMarker: 3,
      maxParts: 2,
      isTruncated: true,
      parts: [
        {
          partNumber: 2,
          lastModified: new Date('2010-11-10T20:48:34.000Z'),
          etag: '7778aef83f66abc1fa1e8477f296d394',
          size: 10485760,
        },
        {
          partNumber: 3,
          lastModified: new Date('2010-11-10T20:48:33.000Z'),
          etag: 'aaaa18db4cc2f85cedef654fccc4a4x8',
          size: 10485760,
        },
      ],
    }),
    `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Bucket>example-bucket</Bucket><Key>example-object</Key>
      <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
      <Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>umat-user</DisplayName></Initiator>
      <Owner><ID>${OWNER.id}</ID><DisplayName>someName</DisplayName></Owner>
      <StorageClass>STANDARD</StorageClass>
      <PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
      <Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified><ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>
      <Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified><ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag><Size>10485760</Size></Part>
    </ListPartsResult>`,
  );
  sameElements(
    x.listMultipartUploadsResult({
      bucket: 'bucket',
      nextKeyMarker: 'my-movie.m2ts',
      nextUploadIdMarker: 'YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ',
      maxUploads: 3,
      isTruncated: true,
      uploads: [
        {
          key: 'my-divisor',
          uploadId: 'XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw',
          initiator,
          owner: { id: OWNER.id, displayName: 'OwnerDisplayName' },
          storageClass: 'REDUCED_REDUNDANCY',
          initiated: new Date('2010-11-10T20:48:33.000Z'),
        },
      ],
      commonPrefixes: [],
    }),
    `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
      <NextKeyMarker>my-movie.m2ts</NextKeyMarker><NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
      <Prefix></Prefix>
      <MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>
      <Upload><Key>my-divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
        <Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>umat-user</DisplayName></Initiator>
        <Owner><ID>${OWNER.id}</ID><DisplayName>OwnerDisplayName</DisplayName></Owner>
        <StorageClass>REDUCED_REDUNDANCY</StorageClass><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
    </ListMultipartUploadsResult>`,
  );
});

test('copy, delete, location, tagging and configuration documents have the elements of the AWS examples', () => {
  const lm = new Date('2009-10-28T22:32:00.000Z');
  sameElements(
    x.copyObjectResult({ etag: '9b2cf535f27731c974343645a3985328', lastModified: lm }),
    `<CopyObjectResult><LastModified>2009-10-28T22:32:00.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>`,
  );
  sameElements(
    x.copyPartResult({
      etag: 'b20b0f82f1b8bc5ad2be9e3b4bd3ffc1',
      lastModified: lm,
      checksums: { CRC32: 'AAAAAA==' },
    }),
    `<CopyPartResult><LastModified>2009-10-28T22:32:00.000Z</LastModified><ETag>"b20b0f82f1b8bc5ad2be9e3b4bd3ffc1"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></CopyPartResult>`,
  );
  sameElements(
    x.deleteResult({
      deleted: [{ key: 'sample1.txt' }],
      errors: [{ key: 'sample2.txt', code: 'AccessDenied', message: 'Access Denied' }],
    }),
    `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Deleted><Key>sample1.txt</Key></Deleted>
      <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
    </DeleteResult>`,
  );
  sameElements(
    x.deleteResult({
      deleted: [
        {
          key: 'SampleDocument.txt',
          deleteMarker: true,
          deleteMarkerVersionId: 'NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s',
        },
      ],
      errors: [],
    }),
    `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>SampleDocument.txt</Key>
      <DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</DeleteMarkerVersionId></Deleted></DeleteResult>`,
  );
  assert.equal(
    x.locationConstraint('us-west-2'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-west-2</LocationConstraint>',
  );
  assert.equal(
    x.locationConstraint('us-east-1'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>',
  );
  sameElements(
    x.tagging([
      { key: 'tag1', value: 'val1' },
      { key: 'tag2', value: 'val2' },
    ]),
    `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>
      <Tag><Key>tag1</Key><Value>val1</Value></Tag><Tag><Key>tag2</Key><Value>val2</Value></Tag>
    </TagSet></Tagging>`,
  );
  assert.match(x.tagging([]), /<Tagging xmlns="[^"]+"><TagSet><\/TagSet><\/Tagging>$/);
  sameElements(
    x.corsConfiguration([
      {
        allowedOrigins: ['http://www.example.com'],
        allowedMethods: ['GET'],
        allowedHeaders: [],
        exposeHeaders: ['Etag'],
        maxAgeSeconds: 3000,
      },
    ]),
    `<CORSConfiguration><CORSRule><AllowedOrigin>http://www.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>
      <MaxAgeSeconds>3000</MaxAgeSeconds><ExposeHeader>Etag</ExposeHeader></CORSRule></CORSConfiguration>`,
  );
  assert.match(
    x.versioningConfiguration({}),
    /<VersioningConfiguration xmlns="[^"]+"><\/VersioningConfiguration>$/,
  );
  sameElements(
    x.versioningConfiguration({ status: 'Enabled' }),
    `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`,
  );
  sameElements(
    x.objectLockConfiguration({ enabled: true, rule: { mode: 'COMPLIANCE', days: 50 } }),
    `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
      <Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>50</Days></DefaultRetention></Rule></ObjectLockConfiguration>`,
  );
  sameElements(
    x.retention({ mode: 'GOVERNANCE', retainUntilDate: new Date('2030-01-05T00:00:00.000Z') }),
    `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-05T00:00:00.000Z</RetainUntilDate></Retention>`,
  );
  sameElements(x.legalHold('ON'), '<LegalHold><Status>ON</Status></LegalHold>');
});

// --- Parsing -----------------------------------------------------------------------------------------

test('parseXml refuses XML bombs and external entities', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Tagging><TagSet><Tag><Key>&lol3;</Key><Value>v</Value></Tag></TagSet></Tagging>`;
  throwsS3(() => x.parseTagging(billionLaughs, 'object'), 'MalformedXML');
  const external = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>`;
  throwsS3(() => x.parseDelete(external), 'MalformedXML');
  throwsS3(
    () => x.parseDelete('<!doctype Delete><Delete><Object><Key>k</Key></Object></Delete>'),
    'MalformedXML',
  );
  // an entity never declared is not well-formed either
  throwsS3(() => x.parseDelete('<Delete><Object><Key>&xxe;</Key></Object></Delete>'), 'MalformedXML');
  throwsS3(() => x.parseDelete('<Delete><Object><Key>a & b</Key></Object></Delete>'), 'MalformedXML');
});

test('parseXml refuses oversized, empty, non-UTF-8 and ill-formed bodies', () => {
  const body = '<Delete><Object><Key>k</Key></Object></Delete>';
  throwsS3(() => x.parseDelete(body, body.length - 1), 'MalformedXML');
  assert.deepEqual(x.parseDelete(body, body.length).objects, [{ key: 'k' }]);
  throwsS3(() => x.parseXml('', 100), 'MissingRequestBodyError');
  throwsS3(() => x.parseXml(' \n ', 100), 'MissingRequestBodyError');
  throwsS3(
    () => x.parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), 100),
    'MalformedXML',
  );
  for (const bad of [
    '<a>',
    '<a></b>',
    '<a><b></a></b>',
    'text',
    '<a/><b/>',
    '<a x=1/>',
    '<a>&#0;</a>',
    '<a>&#xD800;</a>',
  ]) {
    throwsS3(() => x.parseXml(bad, 100), 'MalformedXML');
  }
  throwsS3(() => x.parseTagging('<Delete><Object><Key>k</Key></Object></Delete>', 'object'), 'MalformedXML');
  // deep nesting is refused, not a stack overflow
  const deep = `${'<a>'.repeat(20000)}${'</a>'.repeat(20000)}`;
  throwsS3(() => x.parseXml(deep, 1 << 20), 'MalformedXML');
});

test('parseXml decodes entities and character references, keeps CDATA and spaces, drops namespaces', () => {
  const root = x.parseXml(
    '\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<!-- a comment --><s3:Object><s3:Key> a&amp;b&lt;&#65;&#x42;&#13;<![CDATA[&lt;x>]]>\r\nz </s3:Key></s3:Object></s3:Delete>',
    1 << 10,
  );
  assert.equal(root.name, 'Delete');
  assert.equal(root.children[0]!.children[0]!.text, ' a&b<AB\r&lt;x>\nz ');
});

test('parseCompleteMultipartUpload reads the AWS example', () => {
  const body = `<CompleteMultipartUpload>
  <Part>
    <PartNumber>1</PartNumber>
    <ETag>"a54357aff0632cce46d942af68356b38"</ETag>
  </Part>
  <Part>
    <PartNumber>2</PartNumber>
    <ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <ETag>"acbd18db4cc2f85cedef654fccc4a4d8"</ETag>
  </Part>
</CompleteMultipartUpload>`;
  assert.deepEqual(x.parseCompleteMultipartUpload(body), [
    { partNumber: 1, etag: 'a54357aff0632cce46d942af68356b38', checksums: {} },
    { partNumber: 2, etag: '0c78aef83f66abc1fa1e8477f296d394', checksums: {} },
    { partNumber: 3, etag: 'acbd18db4cc2f85cedef654fccc4a4d8', checksums: {} },
  ]);
  // SDKs send the namespace and checksums; ETags come quoted as &quot; too
  assert.deepEqual(
    x.parseCompleteMultipartUpload(
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ChecksumCRC32>AAAAAA==</ChecksumCRC32>' +
        '<ETag>&quot;abc&quot;</ETag><PartNumber>7</PartNumber></Part></CompleteMultipartUpload>',
    ),
    [{ partNumber: 7, etag: 'abc', checksums: { CRC32: 'AAAAAA==' } }],
  );
});

test('parseCompleteMultipartUpload refuses what AWS refuses', () => {
  const part = (n: string, etag = '"e"') => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;
  const doc = (...parts: string[]) => `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`;
  throwsS3(() => x.parseCompleteMultipartUpload(doc()), 'MalformedXML');
  throwsS3(() => x.parseCompleteMultipartUpload(doc(part('2'), part('1'))), 'InvalidPartOrder');
  throwsS3(() => x.parseCompleteMultipartUpload(doc(part('1'), part('1'))), 'InvalidPartOrder');
  throwsS3(() => x.parseCompleteMultipartUpload(doc(part('0'))), 'InvalidArgument', /between 1 and 10000/);
  throwsS3(() => x.parseCompleteMultipartUpload(doc(part('10001'))), 'InvalidArgument');
  throwsS3(() => x.parseCompleteMultipartUpload(doc(part('x'))), 'InvalidArgument');
  throwsS3(
    () => x.parseCompleteMultipartUpload(doc('<Part><PartNumber>1</PartNumber></Part>')),
    'MalformedXML',
  );
  throwsS3(
    () =>
      x.parseCompleteMultipartUpload(
        doc('<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part>'),
      ),
    'MalformedXML',
  );
  throwsS3(
    () => x.parseCompleteMultipartUpload(doc('<Part><PartNumber><a/></PartNumber><ETag>e</ETag></Part>')),
    'MalformedXML',
  );
  assert.equal(x.parseCompleteMultipartUpload(doc(part(' 5 '))).length, 1);
  const all = doc(
    ...Array.from({ length: 10000 }, (_, i) => part(String(i + 1), '"d41d8cd98f00b204e9800998ecf8427e"')),
  );
  assert.equal(x.parseCompleteMultipartUpload(all).length, 10000);
});

test('parseDelete reads the AWS examples: keys, versions, quiet mode', () => {
  assert.deepEqual(
    x.parseDelete(`<Delete>
  <Object>
    <Key>sample1.txt</Key>
  </Object>
  <Object>
    <Key>sample2.txt</Key>
  </Object>
</Delete>`),
    { quiet: false, objects: [{ key: 'sample1.txt' }, { key: 'sample2.txt' }] },
  );
  assert.deepEqual(
    x.parseDelete(`<Delete>
  <Object>
   <Key>SampleDocument.txt</Key>
   <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
  </Object>
</Delete>`),
    { quiet: false, objects: [{ key: 'SampleDocument.txt', versionId: 'OYcLXagmS.WaD..oyH4KRguB95_YhLs7' }] },
  );
  assert.deepEqual(
    x.parseDelete(
      '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key> spaced key </Key>' +
        '<ETag>"e1"</ETag><Size>5</Size></Object></Delete>',
    ),
    { quiet: true, objects: [{ key: ' spaced key ', etag: 'e1', size: 5 }] },
  );
});

test('parseDelete takes 1 to 1000 objects, each with a key', () => {
  const doc = (n: number) =>
    `<Delete>${Array.from({ length: n }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
  assert.equal(x.parseDelete(doc(1000)).objects.length, 1000);
  throwsS3(() => x.parseDelete(doc(1001)), 'MalformedXML');
  throwsS3(() => x.parseDelete(doc(0)), 'MalformedXML');
  throwsS3(() => x.parseDelete('<Delete><Object><VersionId>v</VersionId></Object></Delete>'), 'MalformedXML');
  throwsS3(
    () => x.parseDelete('<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>'),
    'MalformedXML',
  );
});

test('parseTagging reads the AWS example and enforces the tag rules', () => {
  const example = `<Tagging>
  <TagSet>
     <Tag>
       <Key>tag1</Key>
       <Value>val1</Value>
     </Tag>
     <Tag>
       <Key>tag2</Key>
       <Value>val2</Value>
     </Tag>
  </TagSet>
</Tagging>`;
  assert.deepEqual(x.parseTagging(example, 'object'), [
    { key: 'tag1', value: 'val1' },
    { key: 'tag2', value: 'val2' },
  ]);
  const doc = (tags: [string, string][]) =>
    `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;
  const n = (count: number) => Array.from({ length: count }, (_, i): [string, string] => [`k${i}`, 'v']);
  assert.equal(x.parseTagging(doc(n(10)), 'object').length, 10);
  throwsS3(() => x.parseTagging(doc(n(11)), 'object'), 'InvalidTag', /cannot be greater than 10/);
  assert.equal(x.parseTagging(doc(n(50)), 'bucket').length, 50);
  throwsS3(() => x.parseTagging(doc(n(51)), 'bucket'), 'InvalidTag');
  assert.equal(x.parseTagging(doc([['k'.repeat(128), 'v'.repeat(256)]]), 'object').length, 1);
  assert.equal(x.parseTagging(doc([['日'.repeat(128), '本'.repeat(256)]]), 'object').length, 1);
  throwsS3(() => x.parseTagging(doc([['k'.repeat(129), 'v']]), 'object'), 'InvalidTag', /TagKey/);
  throwsS3(() => x.parseTagging(doc([['k', 'v'.repeat(257)]]), 'object'), 'InvalidTag', /TagValue/);
  throwsS3(
    () =>
      x.parseTagging(
        doc([
          ['a', '1'],
          ['a', '2'],
        ]),
        'object',
      ),
    'InvalidTag',
    /same key/,
  );
  throwsS3(() => x.parseTagging(doc([['', 'v']]), 'object'), 'InvalidTag');
  throwsS3(() => x.parseTagging(doc([['aws:cloudformation', 'v']]), 'bucket'), 'InvalidTag');
  throwsS3(() => x.parseTagging(doc([['k', 'semi;colon']]), 'object'), 'InvalidTag');
  assert.deepEqual(x.parseTagging(doc([['Project Name', 'a+b-c=d.e_f:g/h@i']]), 'object'), [
    { key: 'Project Name', value: 'a+b-c=d.e_f:g/h@i' },
  ]);
  assert.deepEqual(x.parseTagging(doc([['empty', '']]), 'object'), [{ key: 'empty', value: '' }]);
  assert.deepEqual(x.parseTagging('<Tagging><TagSet/></Tagging>', 'bucket'), []);
  throwsS3(() => x.parseTagging('<Tagging></Tagging>', 'object'), 'MalformedXML');
  throwsS3(
    () => x.parseTagging('<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>', 'object'),
    'MalformedXML',
  );
});

test('parseCreateBucketConfiguration reads the AWS example; an empty body is no configuration', () => {
  assert.deepEqual(
    x.parseCreateBucketConfiguration(
      '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
    ),
    { locationConstraint: 'eu-west-1' },
  );
  assert.deepEqual(x.parseCreateBucketConfiguration(''), {});
  assert.deepEqual(x.parseCreateBucketConfiguration(Buffer.alloc(0)), {});
  assert.deepEqual(x.parseCreateBucketConfiguration('<CreateBucketConfiguration/>'), {});
  throwsS3(() => x.parseCreateBucketConfiguration('<Bucket/>'), 'MalformedXML');
});

test('parseCorsConfiguration reads the AWS example and refuses bad rules', () => {
  const example = `<CORSConfiguration>
 <CORSRule>
   <AllowedOrigin>http://www.example.com</AllowedOrigin>

   <AllowedMethod>PUT</AllowedMethod>
   <AllowedMethod>POST</AllowedMethod>
   <AllowedMethod>DELETE</AllowedMethod>

   <AllowedHeader>*</AllowedHeader>

   <MaxAgeSeconds>3000</MaxAgeSeconds>
   <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
 </CORSRule>
 <CORSRule>
   <AllowedOrigin>*</AllowedOrigin>
   <AllowedMethod>GET</AllowedMethod>
   <AllowedHeader>*</AllowedHeader>
   <MaxAgeSeconds>3000</MaxAgeSeconds>
 </CORSRule>
</CORSConfiguration>`;
  assert.deepEqual(x.parseCorsConfiguration(example), [
    {
      allowedOrigins: ['http://www.example.com'],
      allowedMethods: ['PUT', 'POST', 'DELETE'],
      allowedHeaders: ['*'],
      exposeHeaders: ['x-amz-server-side-encryption'],
      maxAgeSeconds: 3000,
    },
    {
      allowedOrigins: ['*'],
      allowedMethods: ['GET'],
      allowedHeaders: ['*'],
      exposeHeaders: [],
      maxAgeSeconds: 3000,
    },
  ]);
  const rule = (inner: string) => `<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`;
  throwsS3(() => x.parseCorsConfiguration('<CORSConfiguration/>'), 'MalformedXML');
  throwsS3(() => x.parseCorsConfiguration(rule('<AllowedOrigin>*</AllowedOrigin>')), 'MalformedXML');
  throwsS3(() => x.parseCorsConfiguration(rule('<AllowedMethod>GET</AllowedMethod>')), 'MalformedXML');
  throwsS3(
    () =>
      x.parseCorsConfiguration(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>')),
    'InvalidRequest',
    /Unsupported method is PATCH/,
  );
  throwsS3(
    () =>
      x.parseCorsConfiguration(
        rule('<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
      ),
    'InvalidRequest',
    /more than one wildcard/,
  );
  const many = `<CORSConfiguration>${'<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(101)}</CORSConfiguration>`;
  throwsS3(() => x.parseCorsConfiguration(many), 'InvalidRequest');
  // the rendered configuration parses back to the same rules
  const rules = x.parseCorsConfiguration(example);
  assert.deepEqual(x.parseCorsConfiguration(x.corsConfiguration(rules)), rules);
});

test('parseVersioningConfiguration reads the AWS example and refuses other states', () => {
  assert.deepEqual(
    x.parseVersioningConfiguration(
      '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>',
    ),
    { status: 'Enabled' },
  );
  assert.deepEqual(
    x.parseVersioningConfiguration(
      '<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>',
    ),
    { status: 'Suspended', mfaDelete: 'Disabled' },
  );
  throwsS3(
    () =>
      x.parseVersioningConfiguration(
        '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
      ),
    'MalformedXML',
  );
  throwsS3(
    () =>
      x.parseVersioningConfiguration(
        '<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>',
      ),
    'MalformedXML',
  );
});

test('parseObjectLockConfiguration reads the AWS example and checks the default retention', () => {
  const example = `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <ObjectLockEnabled>Enabled</ObjectLockEnabled>
  <Rule>
    <DefaultRetention>
      <Mode>COMPLIANCE</Mode>
      <Days>50</Days>
    </DefaultRetention>
  </Rule>
</ObjectLockConfiguration>`;
  assert.deepEqual(x.parseObjectLockConfiguration(example), {
    enabled: true,
    rule: { mode: 'COMPLIANCE', days: 50 },
  });
  assert.deepEqual(
    x.parseObjectLockConfiguration(
      '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>',
    ),
    { enabled: true },
  );
  const doc = (dr: string) =>
    `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>${dr}</DefaultRetention></Rule></ObjectLockConfiguration>`;
  assert.deepEqual(x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Years>1</Years>')).rule, {
    mode: 'GOVERNANCE',
    years: 1,
  });
  const zero = throwsS3(
    () => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Days>0</Days>')),
    'InvalidRetentionPeriod',
    /positive integer/,
  );
  assert.equal(zero.fields.ArgumentName, 'Days');
  throwsS3(
    () => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Years>-1</Years>')),
    'InvalidRetentionPeriod',
  );
  throwsS3(
    () => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Days>36501</Days>')),
    'InvalidArgument',
  );
  throwsS3(
    () => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Years>101</Years>')),
    'InvalidArgument',
  );
  throwsS3(
    () => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>')),
    'MalformedXML',
  );
  throwsS3(() => x.parseObjectLockConfiguration(doc('<Mode>GOVERNANCE</Mode>')), 'MalformedXML');
  throwsS3(() => x.parseObjectLockConfiguration(doc('<Mode>STRICT</Mode><Days>1</Days>')), 'MalformedXML');
  throwsS3(() => x.parseObjectLockConfiguration(doc('<Days>1</Days>')), 'MalformedXML');
  throwsS3(
    () =>
      x.parseObjectLockConfiguration(
        '<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>',
      ),
    'MalformedXML',
  );
});

test('parseRetention reads the AWS example, needs a future ISO 8601 date, and allows clearing', () => {
  const now = new Date('2020-01-01T00:00:00Z');
  assert.deepEqual(
    x.parseRetention(
      '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-05T00:00:00.000Z</RetainUntilDate></Retention>',
      { now },
    ),
    { mode: 'GOVERNANCE', retainUntilDate: new Date('2020-01-05T00:00:00.000Z') },
  );
  assert.deepEqual(x.parseRetention('<Retention/>', { now }), {});
  throwsS3(
    () =>
      x.parseRetention(
        '<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2019-01-01T00:00:00Z</RetainUntilDate></Retention>',
        { now },
      ),
    'InvalidArgument',
    /future/,
  );
  throwsS3(
    () =>
      x.parseRetention(
        '<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>',
        { now },
      ),
    'MalformedXML',
  );
  throwsS3(() => x.parseRetention('<Retention><Mode>COMPLIANCE</Mode></Retention>', { now }), 'MalformedXML');
  throwsS3(
    () =>
      x.parseRetention(
        '<Retention><Mode>LOOSE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>',
        { now },
      ),
    'MalformedXML',
  );
});

test('parseLegalHold reads ON and OFF and nothing else', () => {
  assert.equal(
    x.parseLegalHold(
      '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>',
    ),
    'ON',
  );
  assert.equal(x.parseLegalHold('<LegalHold><Status>OFF</Status></LegalHold>'), 'OFF');
  throwsS3(() => x.parseLegalHold('<LegalHold><Status>on</Status></LegalHold>'), 'MalformedXML');
  throwsS3(() => x.parseLegalHold('<LegalHold/>'), 'MalformedXML');
});

test.run();
