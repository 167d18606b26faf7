/**
 * A SigV4-signed request to a test server by hand (aws4 signs it), for what an SDK hides: the raw XML
 * of a response, parameters an SDK will not send (an empty continuation token, a part number of 0),
 * bodies an SDK would not build.
 */
import aws4 from 'aws4';
import type { TestServer } from './server';

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * `path` is sent as given (percent-encode keys yourself); `query` is appended form-encoded.
 */
export async function raw(
  srv: TestServer,
  req: {
    method: string;
    path: string;
    query?: Record<string, string> | [string, string][];
    headers?: Record<string, string>;
    body?: string | Buffer;
  },
): Promise<RawResponse> {
  const qs = new URLSearchParams(req.query ?? []).toString().replace(/\+/g, '%20');
  const full = qs === '' ? req.path : `${req.path}?${qs}`;
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
  const signed = aws4.sign(
    {
      host: `127.0.0.1:${srv.port}`,
      method: req.method,
      path: full,
      headers: { ...req.headers },
      ...(body ? { body } : {}),
      service: 's3',
      region: srv.region,
    },
    { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers ?? {})) {
    if (k.toLowerCase() !== 'host' && v !== undefined) headers[k] = String(v);
  }
  const res = await fetch(`${srv.endpoint}${full}`, {
    method: req.method,
    headers,
    ...(body ? { body } : {}),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
