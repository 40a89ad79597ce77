/**
 * The part of the Secrets Manager SDK the store uses, in a module of its own
 * so that the store can load it with `import()` on its first fetch: a
 * dynamic import of the SDK package itself would keep every command of the
 * client in the bundle (the whole namespace is reachable), this one keeps two.
 */
export { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
