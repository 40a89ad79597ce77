/**
 * The key records in the stack's DynamoDB table, as the key command writes
 * them with the operator's own AWS credentials (IAM is the admin
 * authentication): `key:id:<id>` holds a record (JSON) and a version for
 * conditional writes, `key:hash:<sha256>` points a key's hash to its id, and
 * `key:ids` lists the ids. A new key's pointer is written before its record,
 * so a record never names a key the gateway cannot find.
 */
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { parseKeyRecord, type KeyRecord } from "../shared/access/key-record.ts";
import { KEY_ITEMS } from "../shared/access/key-store.ts";
import type { KeyAdminStore } from "./key-admin-store.ts";
import { KeyCommandError } from "./key-changes.ts";

/** Options of the table store. */
export interface DynamoDbKeyAdminOptions {
  readonly tableName: string;
  /** The client (default: the SDK's own configuration: region, credentials and endpoint from the environment or profile). */
  readonly client?: DynamoDBClient;
  readonly region?: string;
}

interface StoredRecord {
  readonly record: KeyRecord;
  readonly version: number;
}

const UPDATE_ATTEMPTS = 5;

/** Opens the table store. */
export function createDynamoDbKeyAdmin(options: DynamoDbKeyAdminOptions): KeyAdminStore {
  const TableName = options.tableName;
  const client = options.client ?? new DynamoDBClient(options.region === undefined ? {} : { region: options.region });

  async function read(id: string): Promise<StoredRecord | undefined> {
    const { Item } = await send(client.send(new GetItemCommand({ TableName, Key: key(KEY_ITEMS.record(id)), ConsistentRead: true })));
    return Item === undefined ? undefined : decode(Item);
  }

  async function putPointers(record: KeyRecord, known: KeyRecord | undefined): Promise<void> {
    const fresh = record.secrets.filter((secret) => !known?.secrets.some((old) => old.sha256 === secret.sha256));
    for (const secret of fresh) {
      await send(client.send(new PutItemCommand({ TableName, Item: { ...key(KEY_ITEMS.hash(secret.sha256)), id: { S: record.id } } })));
    }
  }

  return {
    description: `table ${TableName}`,
    async list() {
      const { Item } = await send(client.send(new GetItemCommand({ TableName, Key: key(KEY_ITEMS.index), ConsistentRead: true })));
      const ids = [...(Item?.ids?.SS ?? [])].sort();
      const records: KeyRecord[] = [];
      for (let start = 0; start < ids.length; start += 100) {
        let keys: Record<string, AttributeValue>[] | undefined = ids.slice(start, start + 100).map((id) => key(KEY_ITEMS.record(id)));
        while (keys !== undefined && keys.length > 0) {
          const output: BatchGetItemCommandOutput = await send(client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: keys, ConsistentRead: true } } })));
          for (const item of output.Responses?.[TableName] ?? []) records.push(decode(item).record);
          keys = output.UnprocessedKeys?.[TableName]?.Keys;
        }
      }
      return records.sort((a, b) => a.id.localeCompare(b.id));
    },
    async get(id) {
      return (await read(id))?.record;
    },
    async create(record) {
      if ((await read(record.id)) !== undefined) throw exists(record.id);
      await putPointers(record, undefined);
      try {
        await send(
          client.send(
            new PutItemCommand({ TableName, Item: encode(record, 1), ConditionExpression: "attribute_not_exists(pk)" }),
          ),
        );
      } catch (error) {
        // Another command took the id meanwhile: its record never names our key, so the pointer can go.
        for (const secret of record.secrets) await client.send(new DeleteItemCommand({ TableName, Key: key(KEY_ITEMS.hash(secret.sha256)) })).catch(() => undefined);
        throw error instanceof WriteConflict ? exists(record.id) : error;
      }
      await send(client.send(new UpdateItemCommand({ TableName, Key: key(KEY_ITEMS.index), UpdateExpression: "ADD ids :id", ExpressionAttributeValues: { ":id": { SS: [record.id] } } })));
    },
    async update(id, change) {
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
        const current = await read(id);
        if (current === undefined) throw new KeyCommandError(`No gateway key with id ${id} in the table ${TableName}.`);
        const changed = change(current.record);
        await putPointers(changed, current.record);
        try {
          await send(
            client.send(
              new PutItemCommand({
                TableName,
                Item: encode(changed, current.version + 1),
                ConditionExpression: "version = :version",
                ExpressionAttributeValues: { ":version": { N: String(current.version) } },
              }),
            ),
          );
          return changed;
        } catch (error) {
          if (!(error instanceof WriteConflict)) throw error;
        }
      }
      throw new KeyCommandError(`Gateway key ${id} kept changing while this command ran; try again.`);
    },
    close() {
      if (options.client === undefined) client.destroy();
    },
  };
}

function key(pk: string): Record<string, AttributeValue> {
  return { pk: { S: pk } };
}

function encode(record: KeyRecord, version: number): Record<string, AttributeValue> {
  return { ...key(KEY_ITEMS.record(record.id)), record: { S: JSON.stringify(record) }, version: { N: String(version) } };
}

function decode(item: Record<string, AttributeValue>): StoredRecord {
  try {
    return { record: parseKeyRecord(JSON.parse(item.record?.S ?? "null"), `item ${item.pk?.S ?? "?"}`), version: Number(item.version?.N ?? 0) };
  } catch (error) {
    throw new KeyCommandError(`The table holds a record the command cannot read: ${(error as Error).message}.`);
  }
}

/** A conditional write found the item changed (or present) meanwhile. */
class WriteConflict extends KeyCommandError {
  constructor() {
    super("The item changed while this command ran; try again.");
  }
}

function exists(id: string): KeyCommandError {
  return new KeyCommandError(`A gateway key with id ${id} exists already (update or rotate it).`);
}

/** Runs one SDK call, turning its failures into messages an operator can act on. */
async function send<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw describeFailure(error);
  }
}

function describeFailure(error: unknown): KeyCommandError {
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case "ConditionalCheckFailedException":
      return new WriteConflict();
    case "ResourceNotFoundException":
      return new KeyCommandError(`The table does not exist in this account and region (${message}). Check --table and --region.`);
    case "CredentialsProviderError":
      return new KeyCommandError(`No AWS credentials: ${message}. The command uses your AWS credentials (profile, environment or SSO).`);
    case "AccessDeniedException":
    case "UnrecognizedClientException":
      return new KeyCommandError(`AWS refused the call (${name}): ${message}`);
    default:
      return new KeyCommandError(`DynamoDB call failed (${name}): ${message}`);
  }
}
