/**
 * The rollout track of a model server (contract/rollout.ts): its label on the service's objects and
 * pods, and the ServiceMonitor relabeling that copies it onto every scraped series as `track`, so
 * dashboards and alerts tell the canary and the shadow from the stable version (their `version` label
 * differs too).
 */
import { orgKey, ORG_LABELS, type RolloutTrack, ROLLOUT_TRACKS } from "../contract";
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

/**
 * What the operating note of a tracked service says about promotion and rollback: both are one change
 * of the team's ModelRoute arguments (docs/team-guide.md#canary-and-shadow).
 */
export function rolloutNote(track: RolloutTrack | undefined, serviceName: string, namespace: string): string[] {
    if (track === undefined) return [];
    const watch =
        `Compare it with the stable version on the **MLOps / Model service** dashboard (its series carry \`track="${track}"\` and its own \`version\`). ` +
        "Its ModelRoute's alerts compare it with the stable version (ModelCandidateErrorRatioAboveStable, ModelCandidateLatencyAboveStable, in the signals below): when one fires, roll it back first and investigate afterwards.";
    if (track === "canary") {
        return [
            `**This is a canary** (\`track: canary\`): it takes the weight its ModelRoute gives it of the route's requests. ${watch}`,
            "**Roll back the canary**: in the team's stack, remove `canary` from the ModelRoute (and this ModelService), then `pulumi up`: the route sends every request to the stable service at once.",
            "**Promote the canary**: in the same change, give the stable ModelService this service's `modelUri` (its `previousVersion` the version it served; in prod the version must be approved in the platform's approvals file, as the canary's already is) and remove the canary; the stable Deployment rolls out the new version with no downtime.",
            [
                "```sh",
                `kubectl -n ${namespace} get httproute -o yaml   # the weights the gateway applies`,
                `kubectl -n ${namespace} rollout status deployment/${serviceName} --timeout=10m`,
                "```",
            ].join("\n"),
        ];
    }
    if (track === "shadow") {
        return [
            `**This is a shadow** (\`track: shadow\`): the gateway mirrors copies of the route's requests to it and discards its answers; callers never see them. ${watch}`,
            "**Stop the shadow**: remove `shadow` from the ModelRoute (and this ModelService), then `pulumi up`. To let it answer, make it the canary or the stable version.",
        ];
    }
    return [
        "**This is the stable version of a ModelRoute**: a canary, when the route has one, takes its weight of the requests; promoting the canary gives this service the canary's version in one change (docs/team-guide.md#canary-and-shadow).",
    ];
}
