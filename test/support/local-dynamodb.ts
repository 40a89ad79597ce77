/**
 * A local DynamoDB for tests: dynalite (in memory) on 127.0.0.1 and real
 * `DynamoDBClient`s pointed at it, with the gateway's table created the way
 * the CDK stack creates it (partition key `pk` string, on demand).
 */
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";

interface DynaliteOptions {
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
  readonly maxItemSizeKb?: number;
}

// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)("dynalite") as (options: DynaliteOptions) => Server;

/** A running dynalite. */
export interface LocalDynamoDb {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** A new client for it (region us-east-1, dummy credentials); closed with the server. */
  client(): DynamoDBClient;
  /** Creates a table like the stack's and waits until it is active. */
  createTable(name: string): Promise<void>;
  /** How many calls of `operation` (e.g. `GetItem`) it has answered, from any client. */
  calls(operation: string): number;
  close(): Promise<void>;
}

/**
 * A real DynamoDBClient for a local endpoint (region us-east-1, dummy
 * credentials, one attempt, no request timeout of its own), with `overrides`.
 */
export function localDynamoDbClient(endpoint: string, overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
    maxAttempts: 1,
    ...overrides,
  });
}

/** Starts dynalite on 127.0.0.1 with an in-memory backend. */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const calls = new Map<string, number>();
  server.on("request", (request: IncomingMessage) => {
    const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
  });
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const created = localDynamoDbClient(endpoint);
    clients.push(created);
    return created;
  };
  const admin = client();
  return {
    endpoint,
    client,
    async createTable(name) {
      await admin.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const { Table } = await admin.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === "ACTIVE") return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`table ${name} did not become active`);
    },
    calls: (operation) => calls.get(operation) ?? 0,
    async close() {
      for (const each of clients) each.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
