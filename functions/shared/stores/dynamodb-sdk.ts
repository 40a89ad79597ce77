/**
 * The part of the DynamoDB SDK the store uses, in a module of its own so that
 * the store can load it with `import()` on first use: a dynamic import of the
 * SDK package itself would keep every command of the client in the bundle.
 * zlib comes with it: only the DynamoDB store compresses.
 */
export { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
export { gunzipSync, gzipSync } from "node:zlib";
