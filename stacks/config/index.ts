/**
 * The platform stack's configuration (`mlops:` keys of Pulumi.<stack>.yaml), by concern:
 * - schema.ts: every key, its format and the sentence its error gives (docs/configuration.md is generated from it);
 * - defaults.ts: the defaults per environment;
 * - rules.ts: the rules that span keys, and a team's effective quota and SLOs;
 * - messages.ts: error messages (key, value, what is allowed, "did you mean");
 * - parse.ts: parsePlatformConfig, which puts them together; load.ts reads the running stack's config.
 *
 * Only the platform stack and its components (components/platform) read it; the team library does not.
 */
export * from "./schema";
export { ENVIRONMENT_DEFAULTS } from "./defaults";
export { ConfigError, suggestKey } from "./messages";
export { CREDENTIAL_SUFFIXES, teamQuota, teamSlo, teamsIn } from "./rules";
export { deepMerge, parsePlatformConfig } from "./parse";
export { loadPlatformConfig } from "./load";
export { quantityValue } from "../../components/shared/resources";
