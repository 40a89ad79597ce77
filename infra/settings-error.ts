/** A CDK context value is not usable; the message names the key. */
export class SettingsError extends Error {
  override name = "SettingsError";
}
