import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadBucketCommand, DeleteObjectsCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
const c = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:45123', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const B = 'probe-' + Date.now();
await c.send(new CreateBucketCommand({ Bucket: B }));
await c.send(new PutObjectCommand({ Bucket: B, Key: 'empty', Body: Buffer.alloc(0) }));
for (const r of ['bytes=0-9', undefined]) {
try { const o = await c.send(new GetObjectCommand({ Bucket: B, Key: 'empty', Range: r })); console.log('empty', r, o.ContentRange, o.ContentLength, o.$metadata.httpStatusCode); } catch (e) { console.log('empty err', r, e.name, e.$metadata?.httpStatusCode) }
}
await c.send(new PutObjectCommand({ Bucket: B, Key: 'small', Body: Buffer.from('hello world'), ServerSideEncryption: 'AES256', Metadata: { a: 'b' } }));
const o = await c.send(new GetObjectCommand({ Bucket: B, Key: 'small', Range: 'bytes=0-99' })); console.log('small', o.ContentRange, o.ContentLength, o.ETag, o.ServerSideEncryption, o.$metadata.httpStatusCode);
try { await c.send(new GetObjectCommand({ Bucket: B, Key: 'small', Range: 'bytes=20-30' })); } catch (e) { console.log('beyond', e.name, e.$metadata?.httpStatusCode) }
try { await c.send(new GetObjectCommand({ Bucket: B, Key: 'small', Range: 'bytes=0-3', IfMatch: '"abc"' })); } catch (e) { console.log('ifmatch', e.name, e.$metadata?.httpStatusCode) }
try { await c.send(new GetObjectCommand({ Bucket: B, Key: 'nope' })); } catch (e) { console.log('nokey', e.name, e.$metadata?.httpStatusCode) }
try { await c.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' })); } catch (e) { console.log('headnokey', e.name, e.$metadata?.httpStatusCode) }
try { await c.send(new HeadBucketCommand({ Bucket: 'nobucket-x' })); } catch (e) { console.log('headbucket', e.name, e.$metadata?.httpStatusCode) }
try { await c.send(new GetObjectCommand({ Bucket: 'nobucket-x', Key: 'k' })); } catch (e) { console.log('get nobucket', e.name, e.$metadata?.httpStatusCode) }
const d = await c.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'small' }, { Key: 'zzz' }], Quiet: true } })); console.log('delobjs', d.Deleted, d.Errors);
const m = await c.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp', ServerSideEncryption: 'AES256' })); console.log('cmu', m.ServerSideEncryption);
const p1 = await c.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId: m.UploadId, PartNumber: 1, Body: Buffer.alloc(5*1024*1024, 1) }));
const p2 = await c.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId: m.UploadId, PartNumber: 2, Body: Buffer.alloc(10, 1) }));
const done = await c.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp', UploadId: m.UploadId, MultipartUpload: { Parts: [{PartNumber:1, ETag: p1.ETag},{PartNumber:2, ETag: p2.ETag}] } })); console.log('complete', done.ETag, done.ServerSideEncryption);
const h = await c.send(new HeadObjectCommand({ Bucket: B, Key: 'mp' })); console.log('head', h.ETag, h.ServerSideEncryption, h.ContentLength);
const c2 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 2 });
try { await c2.send(new HeadBucketCommand({ Bucket: B })); } catch (e) { console.log('refused', e.name, e.code, e.constructor.name, e.message, e.errors?.map(x=>x.code), e.$metadata) }
const c3 = new S3Client({ region: 'us-east-1', endpoint: 'http://nonexistent.invalid:9000', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
try { await c3.send(new HeadBucketCommand({ Bucket: B })); } catch (e) { console.log('notfound', e.name, e.code, e.message) }
