/**
 * An independent SigV4 check, written from AWS's description of the
 * algorithm (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
 * with node:crypto only, so the gateway's signatures (made by the AWS SDK's
 * signer) are checked by code that shares nothing with it: the canonical URI
 * is the path as sent, each segment URI-encoded once more (every service but
 * S3); headers are the ones the Authorization header lists; the payload is
 * hashed as received.
 */
import { createHash, createHmac } from "node:crypto";

/** A request as a server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The raw request target (path and query), as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** The secret part of the credentials the request should be signed with. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** Why a request's signature is wrong, or undefined when it is right. */
export function sigV4Problem(request: ReceivedRequest, credentials: SigningCredentials, region: string, service: string): string | undefined {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
  };
  const match = AUTHORIZATION.exec(header("authorization") ?? "");
  if (match === null) return "no SigV4 authorization header";
  const [, accessKeyId, day, signedRegion, signedService, signedHeaders, signature] = match as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId) return `signed with access key ${accessKeyId}`;
  if (signedRegion !== region || signedService !== service) return `scoped to ${signedRegion}/${signedService}`;
  const date = header("x-amz-date") ?? "";
  if (!date.startsWith(day as string)) return "x-amz-date does not match the credential scope";
  if (credentials.sessionToken !== undefined && header("x-amz-security-token") !== credentials.sessionToken) return "the session token is missing";
  const names = (signedHeaders as string).split(";");
  for (const required of ["host", "x-amz-date"]) if (!names.includes(required)) return `${required} is not signed`;
  const [path = "/", query = ""] = request.url.split("?");
  const canonicalUri = path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
  const canonicalHeaders = names.map((name) => `${name}:${(header(name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [request.method, canonicalUri, query, canonicalHeaders, signedHeaders, sha256(request.body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day as string);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  return expected === signature ? undefined : "the signature does not match";
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
