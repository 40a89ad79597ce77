/**
 * AWS Signature Version 4 over a prepared Bedrock request: method, path,
 * headers (host included) and a hash of the body, signed by the AWS SDK's own
 * signer (`@smithy/signature-v4`) for the service `bedrock`. The path goes on
 * the wire as prepared (model ids percent-encoded once) and is encoded once
 * more for the canonical request, as SigV4 wants for every service but S3;
 * that is the signer's `uriEscapePath`, the AWS SDK's default.
 *
 * Credentials come from the default AWS chain: the Lambda role's variables
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in AWS,
 * the usual profile, SSO or environment locally.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { UpstreamRequest } from "../types.ts";

/** Where signing credentials come from (the SDK's provider type). */
export type CredentialProvider = ReturnType<typeof defaultProvider>;

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer asks for. */
class Sha256 {
  private readonly secret: SourceData | undefined;
  private hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Signs Bedrock requests in one region. */
export interface BedrockSigner {
  sign(request: UpstreamRequest): Promise<UpstreamRequest>;
}

/**
 * A signer for `region`. The credential chain is created on the first
 * signature, once: its provider caches the credentials and refreshes them
 * before they expire (a cache that outlives requests on purpose).
 */
export function createBedrockSigner(region: string, credentials?: CredentialProvider): BedrockSigner {
  let signer: SignatureV4 | undefined;
  return {
    async sign(request) {
      // Loaded with the first signature, not at start-up: a deployment without Bedrock never reads the SDK.
      signer ??= await createSigner(region, credentials);
      const { protocol, host, hostname, port, path } = splitUrl(request.url);
      const signed = await signer.sign({
        method: request.method,
        protocol,
        hostname,
        port,
        path,
        query: {},
        headers: { ...request.headers, host },
        body: request.body,
      });
      return { ...request, headers: signed.headers };
    },
  };
}

/** The parts of an absolute URL, the path as written (WHATWG parsing would re-encode or resolve it). */
function splitUrl(url: string): { protocol: string; host: string; hostname: string; port?: number; path: string } {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const origin = new URL(pathStart === -1 ? url : url.slice(0, pathStart));
  const path = pathStart === -1 ? "/" : url.slice(pathStart);
  return { protocol: origin.protocol, host: origin.host, hostname: origin.hostname, port: origin.port === "" ? undefined : Number(origin.port), path };
}

async function createSigner(region: string, credentials: CredentialProvider | undefined): Promise<SignatureV4> {
  const [{ SignatureV4: Signer }, chain] = await Promise.all([
    import("@smithy/signature-v4"),
    credentials === undefined ? import("@aws-sdk/credential-provider-node") : undefined,
  ]);
  return new Signer({ service: "bedrock", region, credentials: credentials ?? (chain as { defaultProvider: typeof defaultProvider }).defaultProvider(), sha256: Sha256, uriEscapePath: true });
}
