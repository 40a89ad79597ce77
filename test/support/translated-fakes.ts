/**
 * The translated providers' fakes for a test file: the local AWS credentials
 * in the process environment (the gateway signs Bedrock requests with the
 * default credential chain, which reads them there), the fake Anthropic API,
 * and the fake Bedrock endpoint checking signatures made with those
 * credentials. Each fake is started before the file's tests, reset before
 * every test and closed after.
 */
import { afterAll, beforeAll } from "vitest";
import { LOCAL_AWS_ENV, setProcessEnv } from "./aws-env.ts";
import { startFakeAnthropic, type FakeAnthropic } from "./fake-anthropic.ts";
import { startFakeBedrock, type FakeBedrock, type FakeBedrockOptions } from "./fake-bedrock.ts";
import { useStarted } from "./gateway-fixture.ts";

/** Credentials the fake Bedrock checks signatures with. */
export interface LocalAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Puts {@link LOCAL_AWS_ENV} (and `AWS_SESSION_TOKEN`, when given) in the process
 * environment for the file's tests, and the previous values back after.
 * @returns the credentials, for the fake Bedrock
 */
export function useLocalAwsCredentials(options: { readonly sessionToken?: string } = {}): LocalAwsCredentials {
  const credentials = {
    accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY as string,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
  };
  let restore: () => void = () => undefined;
  beforeAll(() => {
    restore = setProcessEnv(options.sessionToken === undefined ? LOCAL_AWS_ENV : { ...LOCAL_AWS_ENV, AWS_SESSION_TOKEN: options.sessionToken });
  });
  afterAll(() => restore());
  return credentials;
}

/** The fake Anthropic API, accepting `apiKey`. */
export function useFakeAnthropic(apiKey = "sk-ant-gateway"): () => FakeAnthropic {
  return useStarted(() => startFakeAnthropic({ apiKey }), { what: "the fake Anthropic API", reset: (fake) => fake.reset() });
}

/** The fake Bedrock endpoint. */
export function useFakeBedrock(options: FakeBedrockOptions): () => FakeBedrock {
  return useStarted(() => startFakeBedrock(options), { what: "the fake Bedrock endpoint", reset: (fake) => fake.reset() });
}

/** `GATEWAY_PROVIDERS` with both fakes as the `anthropic` and `bedrock` presets (the gateway's Anthropic key is the fake's default). */
export function translatedProvidersSetting(anthropic: FakeAnthropic, bedrock: FakeBedrock): string {
  return JSON.stringify({
    anthropic: { preset: "anthropic", baseUrl: anthropic.baseUrl, apiKey: "sk-ant-gateway" },
    bedrock: { preset: "bedrock", region: "us-east-1", baseUrl: bedrock.baseUrl },
  });
}
