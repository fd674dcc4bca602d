/**
 * The rollout tracks of a model service behind the platform's gateway (ModelRoute): what the `track`
 * label says, and the bounds of a canary's traffic share and a shadow's mirrored share.
 */

/** `stable` takes what the canary does not; `canary` a weighted share; `shadow` mirrored copies whose answers are discarded. */
export const ROLLOUT_TRACKS = ["stable", "canary", "shadow"] as const;
export type RolloutTrack = (typeof ROLLOUT_TRACKS)[number];

/** A canary's share of the route's requests, in percent: at least 1, at most 50 (a canary never takes the majority). */
export const CANARY_WEIGHT = { min: 1, max: 50 } as const;

/** The API group and version of the routes (Gateway API, standard channel). */
export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";
