// A GET as curl sees it: the status, the bytes that arrived, and whether the answer really ended
// (for a chunked answer: its last chunk arrived) or broke off.
import { request } from 'node:http';
import { withCredentials } from './credentials.ts';

export interface RawAnswer {
  status: number;
  body: Buffer;
  /** false when the connection was cut before the answer's end */
  complete: boolean;
  headers: Record<string, string | string[] | undefined>;
}

/** A GET with the deployment's credential (see useCredentials) unless `headers` give one. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const sent = Object.fromEntries(withCredentials(new URL(url).origin, new Headers(headers)));
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: sent, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (complete: boolean) =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete, headers: res.headers });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => done(res.complete));
      res.once('error', () => done(false));
    });
    req.once('error', reject);
    req.end();
  });
}
