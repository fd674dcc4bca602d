/**
 * The rollout track of a model server (contract/rollout.ts): its label on the service's objects and
 * pods, and the ServiceMonitor relabeling that copies it onto every scraped series as `track`, so
 * dashboards and alerts tell the canary and the shadow from the stable version (their `version` label
 * differs too).
 */
import { orgKey, ORG_LABELS, type RolloutTrack, ROLLOUT_TRACKS } from "./contract";
import { podLabelMeta } from "./runtimes/metricsAdapter";

/** The track label of a service's objects and pods (none without a track). */
export function trackLabel(labelDomain: string, track: RolloutTrack | undefined): Record<string, string> {
    return track ? { [orgKey(labelDomain, ORG_LABELS.track)]: track } : {};
}

/** The ServiceMonitor relabeling that sets `track` on the scraped series from the pod's label. */
export function trackRelabeling(labelDomain: string): { sourceLabels: string[]; targetLabel: string; action: "replace" } {
    return { sourceLabels: [podLabelMeta(orgKey(labelDomain, ORG_LABELS.track))], targetLabel: "track", action: "replace" };
}

/** Problems of a `track` argument. */
export function trackProblems(track: unknown): string[] {
    if (track === undefined || (ROLLOUT_TRACKS as readonly unknown[]).includes(track)) return [];
    return [`track "${String(track)}" must be one of ${ROLLOUT_TRACKS.join(", ")}`];
}
