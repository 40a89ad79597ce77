/**
 * A Secrets Manager endpoint on 127.0.0.1 for the real AWS SDK client
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`): it answers `GetSecretValue` in the
 * service's awsJson1_1 protocol, and can be told to fail like the service does,
 * or to hang: read the request and never answer.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** An error the service can answer with, by its `__type`. */
export type SecretsManagerFault =
  | "ResourceNotFoundException"
  | "AccessDeniedException"
  | "ThrottlingException"
  | "InternalServiceError"
  | "DecryptionFailure";

const FAULT_STATUS: Record<SecretsManagerFault, number> = {
  ResourceNotFoundException: 400,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  InternalServiceError: 500,
  DecryptionFailure: 400,
};

/** The fake service. */
export interface FakeSecretsManager {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** How many GetSecretValue calls it has answered. */
  readonly calls: number;
  /** Sets the secret string returned for an id (name or ARN). */
  setSecret(secretId: string, value: string): void;
  /** Makes every call fail with this fault until cleared with undefined. */
  setFault(fault: SecretsManagerFault | undefined): void;
  /** While on, every call is read and never answered (connections stay open until the client gives up). */
  setHanging(hanging: boolean): void;
  /** Calls received while hanging, answered never. */
  readonly hungCalls: number;
  /** Resolves when `count` calls have been received while hanging, in all. */
  hungCallCount(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake service on an ephemeral port. */
export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, string>();
  let fault: SecretsManagerFault | undefined;
  let calls = 0;
  let hanging = false;
  let hungCalls = 0;
  const hungWaiters = new Set<() => void>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const target = request.headers["x-amz-target"];
      const answer = (status: number, body: unknown, type?: string) => {
        response.writeHead(status, {
          "content-type": "application/x-amz-json-1.1",
          "x-amzn-requestid": crypto.randomUUID(),
          ...(type === undefined ? {} : { "x-amzn-errortype": type }),
        });
        response.end(JSON.stringify(body));
      };
      if (target !== "secretsmanager.GetSecretValue") {
        return answer(400, { __type: "UnknownOperationException", message: String(target) }, "UnknownOperationException");
      }
      if (hanging) {
        hungCalls += 1;
        for (const waiter of [...hungWaiters]) waiter();
        return;
      }
      calls += 1;
      if (fault !== undefined) return answer(FAULT_STATUS[fault], { __type: fault, message: `injected ${fault}` }, fault);
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { SecretId: string };
      const value = secrets.get(SecretId);
      if (value === undefined) {
        const type = "ResourceNotFoundException";
        return answer(400, { __type: type, message: "Secrets Manager can't find the specified secret." }, type);
      }
      answer(200, {
        ARN: SecretId,
        Name: SecretId.split(":").at(-1),
        SecretString: value,
        VersionId: crypto.randomUUID(),
        VersionStages: ["AWSCURRENT"],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return calls;
    },
    setSecret: (secretId, value) => void secrets.set(secretId, value),
    setFault: (next) => {
      fault = next;
    },
    setHanging: (next) => {
      hanging = next;
    },
    get hungCalls() {
      return hungCalls;
    },
    hungCallCount: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (hungCalls < count) return;
          hungWaiters.delete(check);
          resolve();
        };
        hungWaiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
