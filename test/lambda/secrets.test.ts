import { describe, expect, it } from "vitest";
import { useGatewayFunctionWithSecret } from "../support/lambda-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rotating-XyZ123";
const GATEWAY_KEY = "gw-rotation-test-0123456789";
const PROVIDER_KEY = "sk-provider-very-secret-1";
const ROTATED_KEY = "sk-provider-very-secret-2";
const secretWith = (openai: unknown) => JSON.stringify({ openai, gatewayKeys: [{ id: "ops", key: GATEWAY_KEY }] });

// The production default. The fetches that must succeed or fail on their own fault share this bound
// with the one that hangs: at 1 s, a first fetch on a loaded machine (the SDK client's first call, a
// throttled attempt's back-off of up to 500 ms and its retry) could pass it and fail as a timeout.
const SECRET_TIMEOUT_MS = 3_000;
const fixture = useGatewayFunctionWithSecret({
  secretId: SECRET_ARN,
  env: { GATEWAY_SECRET_TTL_SECONDS: "300", GATEWAY_SECRET_TIMEOUT_MS: String(SECRET_TIMEOUT_MS) },
  apiKey: GATEWAY_KEY,
});

const chat = () => fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

describe("provider keys from Secrets Manager", () => {
  it("a Secrets Manager that never answers costs a request GATEWAY_SECRET_TIMEOUT_MS and a 503; the next request tries again", async () => {
    fixture.secrets.setHanging(true);
    const started = performance.now();
    let error = await rejectionOf(chat());
    expect(performance.now() - started).toBeLessThan(SECRET_TIMEOUT_MS + 5_000);
    expect(error).toMatchObject({ status: 503, code: "secret_unavailable" });
    expect(error.message).toContain(`Secrets Manager did not answer within ${SECRET_TIMEOUT_MS} ms`);
    expect(error.headers?.get("retry-after")).toBe("1");
    expect(fixture.secrets.hungCalls).toBeGreaterThanOrEqual(1);

    fixture.secrets.setHanging(false);
    const callsBefore = fixture.secrets.calls;
    error = await rejectionOf(chat());
    expect(error.status).toBe(500);
    expect(fixture.secrets.calls).toBe(callsBefore + 1);
  });

  // One execution environment walks through the faults in order: a failed fetch is never cached.
  it("names each secret fault without its content, and recovers once it is gone", async () => {
    fixture.secrets.setFault("ThrottlingException");
    let error = await rejectionOf(chat());
    expect(error.status).toBe(503);
    expect(error.message).toContain("Secrets Manager is unavailable (ThrottlingException)");

    fixture.secrets.setFault("AccessDeniedException");
    error = await rejectionOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("not allowed to read its secret");

    fixture.secrets.setFault(undefined);
    error = await rejectionOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("does not exist");

    fixture.secrets.setSecret(SECRET_ARN, `{"openai": {"apiKey": "${PROVIDER_KEY}"`);
    error = await rejectionOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("not valid JSON");
    expect(error.message).not.toContain(PROVIDER_KEY);

    fixture.secrets.setSecret(SECRET_ARN, secretWith({ organization: "org-visible-only-by-name" }));
    error = await rejectionOf(chat());
    expect(error.status).toBe(500);
    expect(error.message).toContain("openai.apiKey");
    expect(error.message).not.toContain("org-visible-only-by-name");

    fixture.secrets.setSecret(SECRET_ARN, secretWith({ apiKey: PROVIDER_KEY }));
    const completion = await chat();
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(fixture.upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    for (const line of fixture.lambda.logs) expect(line).not.toContain(PROVIDER_KEY);
  });

  it("refetches the secret once when the provider rejects the key, and retries with the rotated key", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the minimum refresh interval
    fixture.secrets.setSecret(SECRET_ARN, secretWith({ apiKey: ROTATED_KEY }));
    fixture.upstream.reset();
    fixture.upstream.enqueue({ kind: "error", status: 401, code: "invalid_api_key", message: "Incorrect API key provided" });
    const callsBefore = fixture.secrets.calls;
    const completion = await chat();
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(fixture.secrets.calls).toBe(callsBefore + 1);
    expect(fixture.upstream.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${PROVIDER_KEY}`,
      `Bearer ${ROTATED_KEY}`,
    ]);
    // The new key is cached: the next request does not fetch again.
    await chat();
    expect(fixture.secrets.calls).toBe(callsBefore + 1);
  });
});
