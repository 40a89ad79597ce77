import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejectionOf } from "../support/openai-errors.ts";
import { useFakeUpstream, useGateway, useStarted } from "../support/gateway-fixture.ts";
import { startFakeSecretsManager } from "../support/fake-secrets-manager.ts";
import { startTestGateway } from "../support/local-gateway.ts";

const SECRET_ID = "local/gateway";
const GATEWAY_KEY = "gw-local-secret-0123456789";

// The AWS SDK reads its endpoint and credentials from the process environment.
const AWS_ENV = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret-access-key-example" };
const saved: Record<string, string | undefined> = {};

const secrets = useStarted(() => startFakeSecretsManager(), { what: "the fake Secrets Manager" });
const provider = useFakeUpstream({ requireAuth: "Bearer sk-from-the-secret" });

beforeAll(() => {
  for (const [name, value] of Object.entries({ ...AWS_ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets().endpoint })) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  secrets().setSecret(SECRET_ID, JSON.stringify({ openai: { apiKey: "sk-from-the-secret" }, gatewayKeys: [{ id: "local", key: GATEWAY_KEY }] }));
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const fixture = useGateway(
  () => startTestGateway({ OPENAI_BASE_URL: provider.upstream.baseUrl, GATEWAY_SECRET_ID: SECRET_ID }),
  { apiKey: GATEWAY_KEY },
);

describe("npm start with GATEWAY_SECRET_ID", () => {
  it("reads the keys from Secrets Manager through the AWS SDK, as the Lambda function does", async () => {
    const completion = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(provider.upstream.requests.at(-1)?.headers.authorization).toBe("Bearer sk-from-the-secret");
    expect(secrets().calls).toBe(1);
  });

  it("refuses a key that is not in the secret", async () => {
    const stranger = fixture.gateway.client("gw-not-in-the-secret-000");
    const error = await rejectionOf(stranger.models.list());
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
  });
});
