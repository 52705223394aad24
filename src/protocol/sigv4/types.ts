// The shapes shared by the SigV4 parser and verifier. The HTTP layer builds a SignedRequest from
// what arrived on the wire, untouched: SigV4 signs the request as the client serialised it, so
// anything the server normalises before verification (decoding the path, re-ordering the query,
// re-parsing the body) risks computing a different canonical request than the client did.

export interface SignedRequest {
  method: string;            // 'GET' | 'POST' | ...
  rawPath: string;           // the path exactly as sent, before '?', still percent-encoded, e.g. '/snapshots/snap-1/blocks/0'
  rawQuery: string;          // the query string exactly as sent, without '?', may be ''
  // node's IncomingMessage.headers (lower-case names). Node folds repeated headers into one
  // string joined by ', '; passing IncomingMessage.headersDistinct (arrays) instead lets the
  // canonical form join repeated values with ',' exactly as SigV4 specifies.
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;              // the full request body ('' for GET)
}

export interface SigV4Auth {
  form: 'header' | 'query';  // Authorization header, or presigned query (X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...)
  accessKeyId: string;
  date: string;              // yyyymmdd from the credential scope
  region: string;
  service: string;           // e.g. 'ec2', 'ebs', 'kms'
  signedHeaders: string[];
  signature: string;
  amzDate: string;           // the request's X-Amz-Date (or Date header) as sent
  expiresSeconds?: number;   // presigned form only
}
