/**
 * Two gateway keys sharing one provider key, in front of the fake upstream:
 * what the isolation tests start. `a` and `b` are SDK clients of each key;
 * `refused` checks that a call answers 404 from the gateway itself, the
 * provider never called.
 */
import { NotFoundError, type OpenAI } from "openai";
import { beforeAll, expect } from "vitest";
import type { CredentialStore } from "../../functions/shared/access/credentials.ts";
import { parseSecret } from "../../functions/shared/access/parse-secret.ts";
import type { FakeOpenAI } from "./fake-openai.ts";
import { started, useFakeUpstreamAndGateway } from "./gateway-fixture.ts";
import type { TestGateway } from "./local-gateway.ts";

export const KEY_A = "gw-team-a-0123456789abcdef";
export const KEY_B = "gw-team-b-0123456789abcdef";
export const PROVIDER_KEY = "sk-shared-provider-key";

/** A credential store over a fixed secret document. */
export function secretStore(document: Record<string, unknown>): CredentialStore {
  const credentials = Promise.resolve(parseSecret(JSON.stringify(document)));
  return { get: () => credentials, refresh: () => credentials };
}

/** The two keys' fixture. */
export interface TwoKeys {
  readonly upstream: FakeOpenAI;
  readonly gateway: TestGateway;
  /** team-a's client. */
  readonly a: OpenAI;
  /** team-b's client. */
  readonly b: OpenAI;
  /** Expects the call to fail with the gateway's 404 `object_not_found`, the provider not called. */
  refused(call: Promise<unknown> | (() => Promise<unknown>)): Promise<void>;
}

/** Starts the fake upstream and a gateway with keys team-a and team-b on one provider key (extra secret fields merged in). */
export function useTwoKeys(extra: Record<string, unknown> = {}): TwoKeys {
  const document = {
    openai: { apiKey: PROVIDER_KEY },
    gatewayKeys: [
      { id: "team-a", key: KEY_A },
      { id: "team-b", key: KEY_B },
    ],
    ...extra,
  };
  const fixture = useFakeUpstreamAndGateway({
    upstream: { requireAuth: `Bearer ${PROVIDER_KEY}` },
    env: { GATEWAY_MAX_RETRIES: "0" },
    credentials: secretStore(document),
    apiKey: KEY_A,
  });
  let b: OpenAI | undefined;
  beforeAll(() => {
    b = fixture.gateway.client(KEY_B);
  });
  return {
    get upstream() {
      return fixture.upstream;
    },
    get gateway() {
      return fixture.gateway;
    },
    get a() {
      return fixture.client;
    },
    get b() {
      return started(b, "team-b's client");
    },
    async refused(call) {
      const before = fixture.upstream.requests.length;
      const error = await (typeof call === "function" ? call() : call).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe("object_not_found");
      expect(fixture.upstream.requests.length).toBe(before);
    },
  };
}
