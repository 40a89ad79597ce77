import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.ts";
import { startFakeSecretsManager, type FakeSecretsManager } from "../support/fake-secrets-manager.ts";
import { startFunctionUrlEmulator, type FunctionUrlEmulator } from "../support/lambda-emulator.ts";
import { synthesizeGatewayBundle } from "../support/lambda-bundle.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rotating-XyZ123";
const GATEWAY_KEY = "gw-rotation-test-0123456789";
const PROVIDER_KEY = "sk-provider-very-secret-1";
const ROTATED_KEY = "sk-provider-very-secret-2";
const secretWith = (openai: unknown) => JSON.stringify({ openai, gatewayKeys: [{ id: "ops", key: GATEWAY_KEY }] });

let upstream: FakeOpenAI;
let secrets: FakeSecretsManager;
let lambda: FunctionUrlEmulator;
let client: OpenAI;

beforeAll(async () => {
  const bundle = synthesizeGatewayBundle();
  upstream = await startFakeOpenAI();
  secrets = await startFakeSecretsManager();
  lambda = await startFunctionUrlEmulator({
    taskRoot: bundle.taskRoot,
    handler: bundle.handler,
    env: {
      ...bundle.environment,
      GATEWAY_SECRET_ID: SECRET_ARN,
      GATEWAY_SECRET_TTL_SECONDS: "300",
      OPENAI_BASE_URL: upstream.baseUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret-access-key-example",
    },
  });
  client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${lambda.url}/v1/`, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await lambda?.close();
  await upstream?.close();
  await secrets?.close();
});

async function errorOf(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

const chat = () => client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

describe("provider keys from Secrets Manager", () => {
  // One execution environment walks through the faults in order: a failed fetch is never cached.
  it("names each secret fault without its content, and recovers once it is gone", async () => {
    secrets.setFault("ThrottlingException");
    let error = await errorOf(chat());
    expect(error.status).toBe(503);
    expect(error.message).toContain("Secrets Manager is unavailable (ThrottlingException)");

    secrets.setFault("AccessDeniedException");
    error = await errorOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("not allowed to read its secret");

    secrets.setFault(undefined);
    error = await errorOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("does not exist");

    secrets.setSecret(SECRET_ARN, `{"openai": {"apiKey": "${PROVIDER_KEY}"`);
    error = await errorOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("not valid JSON");
    expect(error.message).not.toContain(PROVIDER_KEY);

    secrets.setSecret(SECRET_ARN, secretWith({ organization: "org-visible-only-by-name" }));
    error = await errorOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("openai.apiKey");
    expect(error.message).not.toContain("org-visible-only-by-name");

    secrets.setSecret(SECRET_ARN, secretWith({ apiKey: PROVIDER_KEY }));
    const completion = await chat();
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    for (const line of lambda.logs) expect(line).not.toContain(PROVIDER_KEY);
  });

  it("refetches the secret once when the provider rejects the key, and retries with the rotated key", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the minimum refresh interval
    secrets.setSecret(SECRET_ARN, secretWith({ apiKey: ROTATED_KEY }));
    upstream.reset();
    upstream.enqueue({ kind: "error", status: 401, code: "invalid_api_key", message: "Incorrect API key provided" });
    const callsBefore = secrets.calls;
    const completion = await chat();
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(secrets.calls).toBe(callsBefore + 1);
    expect(upstream.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${PROVIDER_KEY}`,
      `Bearer ${ROTATED_KEY}`,
    ]);
    // The new key is cached: the next request does not fetch again.
    await chat();
    expect(secrets.calls).toBe(callsBefore + 1);
  });
});
