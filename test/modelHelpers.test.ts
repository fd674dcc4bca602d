/**
 * The pure helpers behind ModelService and BatchInference: cron parsing and the gaps between runs,
 * staleness windows, run partitions, time zones, model URIs and names, approval records, bucket
 * prefixes, object names and labels within Kubernetes and AWS limits, replica math, rule scoping and
 * the operating-note renderer. Invariants are checked with fast-check over generated inputs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALERTS, namespaceSelector, STALE_FACTOR, workloadAlertGroups } from "../components/shared/alertRules";
import { batchRuleGroups, batchTiming, defaultOutputPrefix, JOB_NAME_MAX } from "../components/team/batchInference";
import {
    CRON_DESCRIPTORS,
    formatDuration,
    GREGORIAN_CYCLE_DAYS,
    isIanaTimeZone,
    parseCron,
    partitionTemplate,
    renderPartition,
    runGaps,
    runMinutesOfDay,
    stalenessWindowSeconds,
} from "../components/team/cron";
import { unknownMetrics } from "../components/shared/metricsContract";
import {
    disruptionBudgetFor,
    fullSlo,
    hpaMetrics,
    modelTopologySpread,
    rollingUpdateFor,
    SERVICE_ALERTS,
    SERVICE_NAME_MAX,
    serviceRuleGroups,
    startupFailureThreshold,
} from "../components/team/modelService";
import {
    approvalProblems,
    isUnderPrefix,
    MODEL_NAME_MAX,
    modelNameProblem,
    modelVersionUri,
    parseApprovalDate,
    parseModelUri,
    teamNameProblem,
} from "../components/team/modelUri";
import { defaultRepositoryName, modelWorkloadLabels, teamLabelContext } from "../components/team/modelWorkload";
import { selectorLabels } from "../components/shared/naming";
import { renderOperatingNote, runbookUrl } from "../components/team/operatingNote";
import { platformOutputProblems, platformServingProblems } from "../components/team/platformReference";
import { servingNamespaceName } from "../components/platform/servingNamespace";

const RUNBOOKS = "https://github.com/acme/mlops-platform/blob/main/docs/runbooks";
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const cronError = (expr: string) => {
    try {
        parseCron(expr);
    } catch (e) {
        return (e as Error).message;
    }
    return undefined;
};

// ---------------------------------------------------------------------------------------------
// Arbitraries.
// ---------------------------------------------------------------------------------------------

const teamArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/);
/** What follows `<team>-` in a model name (built once: building a stringMatching arbitrary is costly). */
const modelRest = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,37}[a-z0-9])?$/);
/** A valid registered model name of a team: `<team>-<rest>`, at most 40 characters. */
const modelOf = (team: string) => modelRest.map((rest) => `${team}-${rest}`.slice(0, MODEL_NAME_MAX).replace(/-+$/, "") || `${team}-m`);
const teamAndModel = teamArb.chain((team) => modelOf(team).map((model) => ({ team, model })));

/** A cron field item: `*`, `*\/n`, a value, a range, a range with a step. */
function fieldItem(min: number, max: number): fc.Arbitrary<string> {
    return fc.oneof(
        fc.constant("*"),
        fc.integer({ min: 2, max: Math.max(2, max - min) }).map((n) => `*/${n}`),
        fc.integer({ min, max }).map(String),
        fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc
            .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min: 1, max: 10 }))
            .map(([a, b, s]) => `${Math.min(a, b)}-${Math.max(a, b)}/${s}`),
    );
}
const field = (min: number, max: number) => fc.array(fieldItem(min, max), { minLength: 1, maxLength: 3 }).map((items) => items.join(","));
/** Schedules whose days are chosen by day of week only (period: one week). */
const weeklyCron = fc.tuple(field(0, 59), field(0, 23), field(0, 6)).map(([m, h, dow]) => `${m} ${h} * * ${dow}`);
/** Any five-field schedule. */
const anyCron = fc.tuple(field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6)).map((f) => f.join(" "));

/** Run times (minutes since 2000-01-01 00:00, a Saturday) of a schedule over `days` days, by brute force. */
function bruteForceRuns(expr: string, days: number): number[] {
    const s = parseCron(expr);
    const [hours, minutes] = [new Set(s.hours), new Set(s.minutes)];
    const runs: number[] = [];
    for (let d = 0; d < days; d++) {
        const date = new Date(Date.UTC(2000, 0, 1 + d));
        const domOk = s.daysOfMonth.includes(date.getUTCDate());
        const dowOk = s.daysOfWeek.includes(date.getUTCDay());
        const dayOk = s.months.includes(date.getUTCMonth() + 1) && (s.domStar || s.dowStar ? domOk && dowOk : domOk || dowOk);
        if (!dayOk) continue;
        for (let hour = 0; hour < 24; hour++) {
            if (!hours.has(hour)) continue;
            for (let minute = 0; minute < 60; minute++) if (minutes.has(minute)) runs.push(d * 1440 + hour * 60 + minute);
        }
    }
    return runs;
}
const gapsOf = (runs: number[]) => runs.slice(1).map((r, i) => (r - runs[i]) * 60);

// ---------------------------------------------------------------------------------------------
// Cron.
// ---------------------------------------------------------------------------------------------

describe("parseCron", () => {
    it("reads values, ranges, steps, lists, names and descriptors", () => {
        const s = parseCron("5/15 9-17/4 1,15 JAN-mar,Dec mon-FRI");
        expect(s.minutes).toEqual([5, 20, 35, 50]);
        expect(s.hours).toEqual([9, 13, 17]);
        expect(s.daysOfMonth).toEqual([1, 15]);
        expect(s.months).toEqual([1, 2, 3, 12]);
        expect(s.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
        expect([s.domStar, s.dowStar]).toEqual([false, false]);
        expect(parseCron("*/1 * ? * *")).toMatchObject({ domStar: true, dowStar: true });
        expect(parseCron("*/2 * * * *").minutes).toHaveLength(30);
        expect(parseCron("@daily").expression).toBe("0 0 * * *");
        expect(parseCron("  0   3 * *   SUN ").expression).toBe("0 3 * * SUN");
        for (const [descriptor, expanded] of Object.entries(CRON_DESCRIPTORS)) expect(parseCron(descriptor).expression).toBe(expanded);
    });

    it.each([
        ["61 * * * *", 'minute "61" is out of range 0-59'],
        ["0 24 * * *", 'hour "24" is out of range 0-23'],
        ["0 0 0 * *", 'day-of-month "0" is out of range 1-31'],
        ["0 0 * 13 *", 'month "13" is out of range 1-12 or JAN-DEC'],
        ["0 0 * * 7", 'day-of-week "7" is out of range 0-6 or SUN-SAT, 0 is Sunday'],
        ["0 0 * * FUN", 'day-of-week "FUN" is not a number or a name (allowed: 0-6 or SUN-SAT, 0 is Sunday)'],
        ["MON * * * *", 'minute "MON" is not a number (allowed: 0-59)'],
        ["5-1 * * * *", 'minute "5-1" starts after it ends'],
        ["*/0 * * * *", 'minute "*/0" has a step that is not a positive number'],
        ["1/2/3 * * * *", 'minute "1/2/3" has more than one step'],
        ["1,,2 * * * *", 'minute "1,,2" has an empty list item'],
        ["1- * * * *", 'minute "1-" is not a range like 1-5'],
        ["? * * * *", 'minute "?" is not a number (allowed: 0-59)'],
        ["* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"],
        ["0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"],
        ["", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"],
        ["@every 5m", '"@every 5m" is not a supported descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'],
        ["TZ=Europe/Berlin 0 3 * * *", "a time zone inside the schedule (TZ= or CRON_TZ=) is refused by Kubernetes: set timeZone instead"],
        ["0 0 30 2 *", "it never runs: no day is both in months 2 and on days-of-month 30"],
        ["0 0 31 4,6,9,11 *", "it never runs: no day is both in months 4,6,9,11 and on days-of-month 31"],
    ])("refuses %j: %s", (expr, message) => {
        expect(cronError(expr)).toBe(message);
    });

    it("accepts every generated schedule, or says it never runs", () => {
        fc.assert(
            fc.property(anyCron, (expr) => {
                const error = cronError(expr);
                expect(error === undefined || error.startsWith("it never runs")).toBe(true);
            }),
            { numRuns: 150 },
        );
    });
});

describe("runGaps and stalenessWindowSeconds", () => {
    it.each([
        ["* * * * *", 60, 60],
        ["0 * * * *", 3600, 3600],
        ["15,45 * * * *", 1800, 1800],
        ["0 9-17 * * *", 3600, 16 * 3600],
        ["30 2 * * *", 86400, 86400],
        ["0 6 * * 1-5", 86400, 3 * 86400],
        ["0 0 1 * *", 28 * 86400, 31 * 86400],
        ["0 0 1 1 *", 365 * 86400, 366 * 86400],
        // The 29th of February: 4 years apart, 8 across a century year that is not a leap year (2100).
        ["0 0 29 2 *", 4 * 365 * 86400 + 86400, 8 * 365 * 86400 + 86400],
        // Both day fields restricted: the 1st of the month OR a Monday.
        ["0 0 1 * MON", 86400, 7 * 86400],
    ])("%s: shortest gap %i s, longest %i s", (expr, min, max) => {
        expect(runGaps(expr)).toEqual({ minGapSeconds: min, maxGapSeconds: max });
        expect(stalenessWindowSeconds(expr)).toBe(Math.ceil(max * STALE_FACTOR));
    });

    it("match the gaps between real runs of weekly schedules (brute force over three weeks)", () => {
        fc.assert(
            fc.property(weeklyCron, (expr) => {
                const gaps = gapsOf(bruteForceRuns(expr, 21));
                expect(runGaps(expr)).toEqual({ minGapSeconds: Math.min(...gaps), maxGapSeconds: Math.max(...gaps) });
            }),
            { numRuns: 60 },
        );
    });

    it("match real runs of day-of-month schedules over four years (every month length occurs)", () => {
        const monthly = fc.tuple(
            fc.integer({ min: 0, max: 59 }),
            fc.integer({ min: 0, max: 23 }),
            fc.uniqueArray(fc.integer({ min: 1, max: 28 }), { minLength: 1, maxLength: 4 }),
        );
        fc.assert(
            fc.property(monthly, ([m, h, days]) => {
                const expr = `${m} ${h} ${days.join(",")} * *`;
                const gaps = gapsOf(bruteForceRuns(expr, 4 * 366));
                expect(runGaps(expr)).toEqual({ minGapSeconds: Math.min(...gaps), maxGapSeconds: Math.max(...gaps) });
            }),
            { numRuns: 25 },
        );
    });

    it("bound every gap between real runs, and a missed run is always caught before the run after it", () => {
        fc.assert(
            fc.property(anyCron, (expr) => {
                if (cronError(expr)) return;
                const { minGapSeconds, maxGapSeconds } = runGaps(expr);
                const window = stalenessWindowSeconds(expr);
                expect(minGapSeconds).toBeGreaterThanOrEqual(60);
                expect(minGapSeconds).toBeLessThanOrEqual(maxGapSeconds);
                expect(window).toBeGreaterThanOrEqual(maxGapSeconds * STALE_FACTOR);
                expect(window).toBeLessThan(maxGapSeconds * STALE_FACTOR + 1);
                const gaps = gapsOf(bruteForceRuns(expr, 45));
                if (gaps.length === 0) return;
                let [lo, hi] = [Infinity, 0];
                for (const gap of gaps) [lo, hi] = [Math.min(lo, gap), Math.max(hi, gap)];
                expect(lo).toBeGreaterThanOrEqual(minGapSeconds);
                expect(hi).toBeLessThanOrEqual(maxGapSeconds);
                expect(hi).toBeLessThan(window);
            }),
            { numRuns: 40 },
        );
    });

    it("never grow when a schedule runs more often (one more minute, hour or weekday)", () => {
        const more = fc.tuple(weeklyCron, fc.integer({ min: 0, max: 2 }), fc.nat());
        fc.assert(
            fc.property(more, ([expr, fieldIndex, n]) => {
                const parts = expr.split(" ");
                const index = [0, 1, 4][fieldIndex];
                parts[index] = `${parts[index]},${n % [60, 24, 7][fieldIndex]}`;
                expect(runGaps(parts.join(" ")).maxGapSeconds).toBeLessThanOrEqual(runGaps(expr).maxGapSeconds);
                expect(stalenessWindowSeconds(parts.join(" "))).toBeLessThanOrEqual(stalenessWindowSeconds(expr));
            }),
            { numRuns: 60 },
        );
    });

    it("use a full Gregorian cycle, a whole number of weeks", () => {
        expect(GREGORIAN_CYCLE_DAYS % 7).toBe(0);
        expect(GREGORIAN_CYCLE_DAYS).toBe(400 * 365 + 97);
    });
});

describe("batchTiming", () => {
    it("starts a run within half the shortest gap (at most an hour) and defaults the deadline to that gap (at most 6 h)", () => {
        expect(batchTiming(parseCron("*/10 * * * *"))).toEqual({
            minGapSeconds: 600,
            maxGapSeconds: 600,
            startingDeadlineSeconds: 300,
            staleAfterSeconds: 900,
            defaultDeadlineSeconds: 600,
        });
        expect(batchTiming(parseCron("30 2 * * *"))).toEqual({
            minGapSeconds: 86400,
            maxGapSeconds: 86400,
            startingDeadlineSeconds: 3600,
            staleAfterSeconds: 129600,
            defaultDeadlineSeconds: 21600,
        });
        fc.assert(
            fc.property(anyCron, (expr) => {
                if (cronError(expr)) return;
                const t = batchTiming(parseCron(expr));
                expect(t.startingDeadlineSeconds).toBeGreaterThanOrEqual(30);
                expect(t.startingDeadlineSeconds).toBeLessThan(t.minGapSeconds);
                expect(t.defaultDeadlineSeconds).toBeLessThanOrEqual(t.minGapSeconds);
            }),
            { numRuns: 40 },
        );
    });
});

describe("partitionTemplate", () => {
    it("is a day partition for at most one run a day, a day and time partition otherwise", () => {
        expect(partitionTemplate("30 2 * * *")).toBe("run_date=%Y-%m-%d");
        expect(partitionTemplate("0 6 * * 1-5")).toBe("run_date=%Y-%m-%d");
        expect(partitionTemplate("0 */6 * * *")).toBe("run_date=%Y-%m-%d/run_time=%H%M");
        expect(renderPartition("run_date=%Y-%m-%d/run_time=%H%M", { year: 2026, month: 3, day: 9, hour: 2, minute: 5 })).toBe(
            "run_date=2026-03-09/run_time=0205",
        );
    });

    it("gives every run of a schedule its own partition (history is kept)", () => {
        fc.assert(
            fc.property(weeklyCron, (expr) => {
                const template = partitionTemplate(expr);
                const partitions = bruteForceRuns(expr, 14).map((m) => {
                    const t = new Date(Date.UTC(2000, 0, 1) + m * 60_000);
                    return renderPartition(template, {
                        year: t.getUTCFullYear(),
                        month: t.getUTCMonth() + 1,
                        day: t.getUTCDate(),
                        hour: t.getUTCHours(),
                        minute: t.getUTCMinutes(),
                    });
                });
                expect(new Set(partitions).size).toBe(partitions.length);
            }),
            { numRuns: 40 },
        );
    });
});

describe("isIanaTimeZone", () => {
    it.each(["Etc/UTC", "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Etc/GMT+5"])("accepts %s", (zone) => {
        expect(isIanaTimeZone(zone)).toBe(true);
    });
    it.each(["Mars/Olympus", "europe/berlin", "+01:00", "CEST", "", "Europe/Berlin "])("refuses %j", (zone) => {
        expect(isIanaTimeZone(zone)).toBe(false);
    });
    it("accepts every zone the runtime lists", () => {
        for (const zone of Intl.supportedValuesOf("timeZone")) expect(isIanaTimeZone(zone)).toBe(true);
    });
});

describe("formatDuration", () => {
    it.each([
        [0, "0s"],
        [90, "1m 30s"],
        [3600, "1h"],
        [86400, "1d"],
        [129600, "1d 12h"],
        [93784, "1d 2h"],
    ])("%i s -> %s", (s, text) => expect(formatDuration(s)).toBe(text));
});

// ---------------------------------------------------------------------------------------------
// Model URIs, names, approvals, prefixes.
// ---------------------------------------------------------------------------------------------

describe("parseModelUri", () => {
    it("reads pinned versions and aliases", () => {
        expect(parseModelUri("models:/fraud-scorer/12")).toEqual({ name: "fraud-scorer", version: 12 });
        expect(parseModelUri("models:/fraud-scorer@champion")).toEqual({ name: "fraud-scorer", alias: "champion" });
    });

    it.each([
        ["fraud-scorer/12", 'model URI "fraud-scorer/12" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>'],
        ["models:/fraud-scorer", 'model URI "models:/fraud-scorer" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>'],
        [
            "models:/fraud-scorer/12/extra",
            'model URI "models:/fraud-scorer/12/extra" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>',
        ],
        ["runs:/0a1b/model", 'model URI "runs:/0a1b/model" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>'],
        [
            "models:/fraud-scorer/Production",
            'model URI "models:/fraud-scorer/Production" names the stage "Production": stages are not used, pin models:/fraud-scorer/<version>',
        ],
        ["models:/fraud-scorer/latest", 'model URI "models:/fraud-scorer/latest" names "latest", which moves: pin models:/fraud-scorer/<version>'],
        ["models:/fraud-scorer/0", 'model URI "models:/fraud-scorer/0" has version "0"; a version is a positive integer'],
        ["models:/fraud-scorer/1.2", 'model URI "models:/fraud-scorer/1.2" has version "1.2"; a version is a positive integer'],
        [
            "models:/Fraud_Scorer/3",
            'model URI "models:/Fraud_Scorer/3" names "Fraud_Scorer", which is not a registered model name (lower-case letters, digits and -)',
        ],
        [
            "models:/fraud-scorer@Champion!",
            'model URI "models:/fraud-scorer@Champion!" has an invalid alias "Champion!" (lower-case letters, digits, _ and -, starting with a letter)',
        ],
    ])("refuses %s", (uri, message) => {
        expect(() => parseModelUri(uri)).toThrow(message);
    });

    it("round-trips every pinned version of every valid name", () => {
        fc.assert(
            fc.property(teamAndModel, fc.integer({ min: 1, max: 2 ** 31 }), ({ model }, version) => {
                expect(parseModelUri(modelVersionUri(model, version))).toEqual({ name: model, version });
            }),
        );
    });
});

describe("model and team names", () => {
    it.each([
        ["Fraud_Scorer", 'model name "Fraud_Scorer" must be lower-case letters, digits and - (a registered model name like fraud-scorer)'],
        ["scorer", 'model name "scorer" must start with the team name ("fraud-")'],
        ["fraudscorer", 'model name "fraudscorer" must start with the team name ("fraud-")'],
        [`fraud-${"x".repeat(40)}`, `model name "fraud-${"x".repeat(40)}" is 46 characters long; at most 40 are allowed`],
    ])("refuses the model name %s", (name, message) => expect(modelNameProblem(name, "fraud")).toBe(message));

    it("refuses malformed team names", () => {
        expect(teamNameProblem("Fraud")).toBe('team "Fraud" must be 2-20 lower-case letters, digits and -, starting with a letter');
        expect(teamNameProblem("fraud")).toBeUndefined();
    });

    it("keep every derived object name within Kubernetes and AWS limits, for any team and model", () => {
        fc.assert(
            fc.property(teamAndModel, ({ team, model }) => {
                expect(modelNameProblem(model, team)).toBeUndefined();
                // The default service name is the model name: a DNS-1035 label pods can be named after.
                expect(model).toMatch(DNS_1035);
                expect(model.length).toBeLessThanOrEqual(SERVICE_NAME_MAX);
                expect(`${model}-${"a".repeat(10)}-${"b".repeat(5)}`.length).toBeLessThanOrEqual(63);
                for (const suffix of ["-operating-note", "-input-schema", "-alerts", "-ingress"]) expect(`${model}${suffix}`.length).toBeLessThanOrEqual(63);
                // Batch: the default job name, the Jobs the controller names after it, the output prefix.
                const job = `${model}-batch`;
                expect(job).toMatch(DNS_1035);
                expect(job.length).toBeLessThanOrEqual(JOB_NAME_MAX);
                expect(`${job}-${"9".repeat(10)}`.length).toBeLessThanOrEqual(63);
                expect(isUnderPrefix(defaultOutputPrefix(team, job), `batch-outputs/${team}`)).toBe(true);
                // ECR repositories of builds: lower-case path segments, at most 256 characters.
                expect(defaultRepositoryName(team, model)).toMatch(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/);
                expect(servingNamespaceName(team).length).toBeLessThanOrEqual(63);
                expect(servingNamespaceName(team)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
            }),
        );
    });
});

describe("approvalProblems", () => {
    const now = new Date("2026-11-22T12:00:00Z");
    const ok = { approvedBy: "jane.doe", ticket: "CHG-10423", date: "2026-11-02" };
    it("accepts a complete record, dated up to a day ahead (time zones)", () => {
        expect(approvalProblems(ok, now)).toEqual([]);
        expect(approvalProblems({ ...ok, date: "2026-11-23" }, now)).toEqual([]);
    });
    it.each([
        [{ approvedBy: "" }, 'approval.approvedBy "" must name who approved (a user or group name like jane.doe, up to 128 characters)'],
        [{ approvedBy: "jane doe" }, 'approval.approvedBy "jane doe" must name who approved (a user or group name like jane.doe, up to 128 characters)'],
        [{ ticket: "10423" }, 'approval.ticket "10423" must be a change ticket like CHG-10423'],
        [{ ticket: "chg-1" }, 'approval.ticket "chg-1" must be a change ticket like CHG-10423'],
        [{ date: "03/11/2026" }, 'approval.date "03/11/2026" must be a date written YYYY-MM-DD'],
        [{ date: "2026-02-30" }, 'approval.date "2026-02-30" must be a date written YYYY-MM-DD'],
        [{ date: "2026-11-25" }, 'approval.date "2026-11-25" is in the future'],
    ])("refuses %j", (change, message) => {
        expect(approvalProblems({ ...ok, ...change }, now)).toEqual([message]);
    });
    it("parses real dates only", () => {
        expect(parseApprovalDate("2024-02-29")?.toISOString()).toBe("2024-02-29T00:00:00.000Z");
        expect(parseApprovalDate("2025-02-29")).toBeUndefined();
    });
});

describe("isUnderPrefix", () => {
    it("is true for the root and what is below it, ignoring slashes at the ends", () => {
        expect(isUnderPrefix("prediction-logs/fraud", "prediction-logs/fraud")).toBe(true);
        expect(isUnderPrefix("/prediction-logs/fraud/x/", "prediction-logs/fraud")).toBe(true);
        expect(isUnderPrefix("prediction-logs/fraudulent", "prediction-logs/fraud")).toBe(false);
        expect(isUnderPrefix("prediction-logs/fraud/../recsys", "prediction-logs/fraud")).toBe(false);
        expect(isUnderPrefix("prediction-logs/fraud//x", "prediction-logs/fraud")).toBe(false);
        expect(isUnderPrefix("prediction-logs/fraud/*", "prediction-logs/fraud")).toBe(false);
    });
    it("holds for any path below the root and never for a sibling", () => {
        const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_=-]{0,15}$/);
        fc.assert(
            fc.property(teamArb, fc.array(segment, { maxLength: 4 }), segment, (team, below, other) => {
                const root = `prediction-logs/${team}`;
                expect(isUnderPrefix([root, ...below].join("/"), root)).toBe(true);
                if (other !== team) expect(isUnderPrefix(`prediction-logs/${other}/x`, root)).toBe(false);
            }),
        );
    });
});

// ---------------------------------------------------------------------------------------------
// Labels, replicas, rules, notes.
// ---------------------------------------------------------------------------------------------

describe("modelWorkloadLabels", () => {
    const ctx = teamLabelContext({ labelDomain: "acme.io", environment: "prod", costCentre: "CC-5120" }, "fraud");
    it("carry app.kubernetes.io/*, ownership, model, version, stage and approval", () => {
        const labels = modelWorkloadLabels(ctx, {
            team: "fraud",
            instance: "fraud-scorer",
            component: "model-server",
            model: { name: "fraud-scorer", version: 12 },
            alias: "champion",
            approval: { approvedBy: "jane.doe@acme.io", ticket: "CHG-10423", date: "2026-11-02" },
        });
        expect(labels).toEqual({
            "app.kubernetes.io/name": "fraud-scorer",
            "app.kubernetes.io/instance": "fraud-scorer",
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/version": "12",
            "app.kubernetes.io/part-of": "mlops-platform",
            "app.kubernetes.io/managed-by": "pulumi",
            "mlops.acme.io/team": "fraud",
            "mlops.acme.io/owner": "fraud",
            "mlops.acme.io/environment": "prod",
            "mlops.acme.io/cost-centre": "CC-5120",
            "mlops.acme.io/model": "fraud-scorer",
            "mlops.acme.io/model-version": "12",
            "mlops.acme.io/stage": "champion",
            "mlops.acme.io/approved-by": "jane.doe-acme.io",
            "mlops.acme.io/approval-ticket": "CHG-10423",
            "mlops.acme.io/approval-date": "2026-11-02",
        });
    });

    it("are valid Kubernetes labels that include the selector, for any team, model, version and approver", () => {
        const approver = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9@._:+-]{0,127}$/);
        fc.assert(
            fc.property(teamAndModel, fc.integer({ min: 1, max: 99999 }), approver, fc.boolean(), ({ team, model }, version, approvedBy, batch) => {
                const component = batch ? "batch-inference" : "model-server";
                const instance = batch ? `${model}-batch` : model;
                const labels = modelWorkloadLabels(teamLabelContext({ labelDomain: "acme.io", environment: "test", costCentre: "CC-1" }, team), {
                    team,
                    instance,
                    component,
                    model: { name: model, version },
                    approval: { approvedBy, ticket: "CHG-1", date: "2026-01-01" },
                });
                for (const [key, value] of Object.entries(labels)) {
                    const [prefix, name] = key.includes("/") ? key.split("/") : ["", key];
                    expect(prefix.length).toBeLessThanOrEqual(253);
                    expect(name).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
                    expect(value.length).toBeLessThanOrEqual(63);
                    expect(value).toMatch(LABEL_VALUE);
                }
                expect(labels).toMatchObject(selectorLabels({ name: model, instance, component }));
                expect(labels["mlops.acme.io/model-version"]).toBe(String(version));
            }),
        );
    });
});

describe("replica math", () => {
    it("never drops below the desired replicas in a rollout, and surges at least one pod", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 100 }), (min) => {
                const r = rollingUpdateFor(min);
                expect(r.maxUnavailable).toBe(0);
                expect(r.maxSurge).toBeGreaterThanOrEqual(1);
                expect(r.maxSurge).toBeLessThanOrEqual(Math.max(1, Math.ceil(min / 4)));
            }),
        );
    });

    it("lets a drain proceed but never take every replica", () => {
        expect(disruptionBudgetFor(1)).toEqual({ maxUnavailable: 1 });
        expect(disruptionBudgetFor(3)).toEqual({ minAvailable: 2 });
        fc.assert(
            fc.property(fc.integer({ min: 2, max: 100 }), (min) => {
                const pdb = disruptionBudgetFor(min) as { minAvailable: number };
                expect(pdb.minAvailable).toBeGreaterThanOrEqual(1);
                expect(pdb.minAvailable).toBeLessThan(min);
            }),
        );
    });

    it("gives the model its whole startup budget", () => {
        fc.assert(
            fc.property(fc.integer({ min: 10, max: 3600 }), fc.integer({ min: 1, max: 30 }), (timeout, period) => {
                const n = startupFailureThreshold(timeout, period);
                expect(n * period).toBeGreaterThanOrEqual(timeout);
                expect((n - 1) * period).toBeLessThan(timeout);
            }),
        );
    });

    it("scales on CPU, and on requests per second when asked", () => {
        expect(hpaMetrics(70)).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
        expect(hpaMetrics(60, 40)[1]).toEqual({
            type: "Pods",
            pods: { metric: { name: "mlops_model_requests_per_second" }, target: { type: "AverageValue", averageValue: "40" } },
        });
    });

    it("spreads over zones (hard in prod) and nodes, per revision", () => {
        const [zone, node] = modelTopologySpread({ a: "b" }, true);
        expect(zone).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", matchLabelKeys: ["pod-template-hash"] });
        expect(node).toMatchObject({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" });
        expect(modelTopologySpread({ a: "b" }, false)[0].whenUnsatisfiable).toBe("ScheduleAnyway");
    });
});

describe("rule scoping", () => {
    const slo = fullSlo({ latencyP95Seconds: 0.25, errorRatio: 0.005 });
    const groups = serviceRuleGroups({ team: "fraud", serviceName: "fraud-scorer", modelName: "fraud-scorer", slo, runbookBaseUrl: RUNBOOKS });
    const rules = groups.flatMap((g) => g.rules);

    it("keeps exactly the service alerts, in groups named after the service", () => {
        expect(rules.map((r) => r.alert).sort()).toEqual([...SERVICE_ALERTS].sort());
        expect(groups.map((g) => g.name)).toEqual(["mlops-model-serving-fraud-fraud-scorer", "mlops-model-quality-fraud-fraud-scorer"]);
        expect(groups[1].interval).toBe("5m");
    });

    it("narrows every selector of the team's namespace to the service, its Deployment, its pods or its model", () => {
        for (const r of rules) {
            const selectors = [...r.expr.matchAll(/([a-z_:]+)\{([^}]*)\}/g)];
            expect(selectors.length).toBeGreaterThan(0);
            for (const [, metric, matchers] of selectors) {
                expect(matchers).toContain('namespace="ml-fraud"');
                const scoped = ['service="fraud-scorer"', 'deployment="fraud-scorer"', 'pod=~"fraud-scorer-[a-z0-9]+-[a-z0-9]+"', 'model="fraud-scorer"'];
                expect(
                    scoped.some((m) => matchers.includes(m)),
                    `${metric}{${matchers}}`,
                ).toBe(true);
            }
            expect(unknownMetrics(r.expr)).toEqual([]);
        }
    });

    it("puts the service's SLO values in its thresholds", () => {
        const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
        expect(byName.ModelLatencyP95High.expr).toMatch(/\) > 0\.25$/);
        expect(byName.ModelErrorRatioHigh.expr).toMatch(/> 0\.005$/);
        expect(byName.ModelErrorRatioHigh.annotations.description).toContain("at most 0.5%");
        expect(byName.ModelInputValidationFailuresHigh.expr).toMatch(/> 0\.05$/);
        expect(byName.ModelErrorRatioHigh.labels).toEqual({ severity: "critical", team: "fraud" });
        expect(byName.ModelErrorRatioHigh.annotations.runbook_url).toBe(`${RUNBOOKS}/model-error-ratio-high.md`);
    });

    it("refuses a metric it cannot scope rather than alerting on the whole namespace", () => {
        const select = namespaceSelector("ml-fraud", [["mlops_", 'service="x"']]);
        expect(select("mlops_model_requests_total", 'status=~"5.."')).toBe('mlops_model_requests_total{namespace="ml-fraud", service="x", status=~"5.."}');
        expect(() => select("up")).toThrow("no scope for metric up: the rule would watch all of namespace ml-fraud");
        expect(namespaceSelector("ml-fraud")("up")).toBe('up{namespace="ml-fraud"}');
        expect(workloadAlertGroups({ team: "fraud", namespace: "ml-fraud", instance: "x", alerts: [], scope: [], runbookBaseUrl: RUNBOOKS })).toEqual([]);
        expect(() =>
            workloadAlertGroups({
                team: "fraud",
                namespace: "ml-fraud",
                instance: "x",
                alerts: ["ModelErrorRatioHigh"],
                scope: [["mlops_", 'service="x"']],
                runbookBaseUrl: RUNBOOKS,
            }),
        ).toThrow("ModelErrorRatioHigh reads slo.errorRatio, which is not given");
    });

    it("derives the batch staleness window from the schedule", () => {
        const batch = batchRuleGroups({
            team: "fraud",
            jobName: "fraud-nightly",
            schedule: parseCron("0 6 * * 1-5"),
            timeZone: "Europe/Berlin",
            runbookBaseUrl: RUNBOOKS,
        });
        const [failed, stale] = batch.flatMap((g) => g.rules);
        expect(batch.map((g) => g.name)).toEqual(["mlops-batch-fraud-fraud-nightly"]);
        expect(failed.alert).toBe("BatchJobFailed");
        expect(failed.expr).toBe('max by (namespace, job_name) (kube_job_failed{namespace="ml-fraud", job_name=~"fraud-nightly-[0-9]+"}) > 0');
        expect(stale.alert).toBe("BatchJobStale");
        // Friday to Monday: 3 days; stale after 4.5 days.
        expect(stale.expr).toBe(
            `time() - max by (namespace, job) (mlops_batch_job_last_success_timestamp_seconds{namespace="ml-fraud", job="fraud-nightly"}) > ${4.5 * 86400}`,
        );
        expect(stale.annotations.description).toContain('"0 6 * * 1-5" (Europe/Berlin) leaves at most 3d between runs, so it is stale after 4d 12h');
        expect(unknownMetrics(stale.expr)).toEqual([]);
    });
});

describe("renderOperatingNote", () => {
    it("renders the sections in order, escapes table cells and links runbooks", () => {
        const md = renderOperatingNote({
            title: "x: online model service",
            summary: "Serves x.",
            facts: [["Owners", "a | b"]],
            failures: ["It breaks."],
            signals: [{ alert: "ModelServiceDown", firesWhen: "no replica\nis available" }],
            runbookBaseUrl: `${RUNBOOKS}/`,
            afterAlert: ["Look.", "Act."],
            rollback: ["Undo:", "```sh\nkubectl rollout undo\n```"],
        });
        expect(md).toBe(
            [
                "# x: online model service",
                "",
                "Serves x.",
                "",
                "| | |",
                "| --- | --- |",
                "| Owners | a \\| b |",
                "",
                "## What can fail",
                "",
                "- It breaks.",
                "",
                "## Monitored signals",
                "",
                "| Alert | Severity | Fires when | Runbook |",
                "| --- | --- | --- | --- |",
                `| ModelServiceDown | critical | no replica is available | [model-service-down](${RUNBOOKS}/model-service-down.md) |`,
                "",
                "## After an alert",
                "",
                "1. Look.",
                "2. Act.",
                "",
                "## Rollback",
                "",
                "Undo:",
                "",
                "```sh\nkubectl rollout undo\n```",
                "",
            ].join("\n"),
        );
        expect(runbookUrl(RUNBOOKS, "BatchJobStale")).toBe(`${RUNBOOKS}/${ALERTS.BatchJobStale.runbook}.md`);
    });
});

describe("platformOutputProblems", () => {
    const args = { stack: "acme/mlops/prod", team: "fraud", environment: "prod", labelDomain: "acme.io" } as const;
    const teams = { fraud: { namespace: "ml-fraud" } };
    it("accepts the platform stack of the team's environment", () => {
        expect(platformOutputProblems(args, { environment: "prod", labelDomain: "acme.io", teams })).toEqual([]);
    });
    it("refuses another environment, another label domain, a missing team or another namespace", () => {
        expect(platformOutputProblems(args, { environment: "dev", labelDomain: "example.com", teams: { recsys: {} } })).toEqual([
            'platform stack acme/mlops/prod is environment "dev", but this stack is "prod"',
            'platform stack acme/mlops/prod labels with "example.com", but this stack says labelDomain "acme.io"',
            'platform stack acme/mlops/prod has no team "fraud" (teams: recsys): add it to mlops:teams with this environment',
        ]);
        expect(platformOutputProblems(args, { environment: "prod", labelDomain: "acme.io", teams: { fraud: { namespace: "fraud" } } })).toEqual([
            'platform stack acme/mlops/prod serves team "fraud" from namespace "fraud", not "ml-fraud"',
        ]);
    });
});

describe("platformServingProblems", () => {
    const args = { stack: "acme/mlops/prod", environment: "prod" } as const;
    const gateway = { name: "platform", namespace: "ingress-nginx", sectionName: "https", hostnameSuffix: "models.acme.io" };
    const image = `410987654321.dkr.ecr.eu-west-1.amazonaws.com/mirror/aws-cli:2.22.0@sha256:${"b".repeat(64)}`;
    it("accepts the platform's gateway and fetch image, and their absence (what needs them refuses)", () => {
        expect(platformServingProblems(args, { gateway, modelFetchImage: image, gatewayNamespace: "ingress-nginx" })).toEqual([]);
        expect(platformServingProblems(args, {})).toEqual([]);
        expect(platformServingProblems({ ...args, environment: "dev" }, { modelFetchImage: "public.ecr.aws/aws-cli/aws-cli:2.22.0" })).toEqual([]);
    });
    it("refuses a malformed gateway, one outside the gateway namespace, a malformed image and a tag outside dev, every one at once", () => {
        expect(
            platformServingProblems(args, { gateway: { ...gateway, hostnameSuffix: "models" }, modelFetchImage: "aws cli", gatewayNamespace: "ingress-nginx" }),
        ).toEqual([
            `platform stack acme/mlops/prod has an invalid gateway output ${JSON.stringify({ ...gateway, hostnameSuffix: "models" })}: expected { name, namespace, sectionName, hostnameSuffix } (mlops:serving.gateway of the platform)`,
            'platform stack acme/mlops/prod has an invalid modelFetchImage output "aws cli": expected an image reference (mlops:serving.modelFetchImage of the platform)',
        ]);
        expect(platformServingProblems(args, { gateway: "platform", modelFetchImage: "public.ecr.aws/aws-cli/aws-cli:2.22.0" })).toEqual([
            'platform stack acme/mlops/prod has an invalid gateway output "platform": expected { name, namespace, sectionName, hostnameSuffix } (mlops:serving.gateway of the platform)',
            'platform stack acme/mlops/prod has modelFetchImage "public.ecr.aws/aws-cli/aws-cli:2.22.0", not pinned by digest (repo@sha256:...) as prod requires',
        ]);
        expect(platformServingProblems(args, { gateway, gatewayNamespace: "gateways" })).toEqual([
            'platform stack acme/mlops/prod has its gateway in namespace "ingress-nginx", but kubernetes.gatewayNamespace is "gateways"',
        ]);
    });
    it("are part of platformOutputProblems", () => {
        const outputs = { environment: "prod", labelDomain: "acme.io", teams: { fraud: { namespace: "ml-fraud" } }, modelFetchImage: "aws cli" };
        expect(platformOutputProblems({ ...args, team: "fraud", labelDomain: "acme.io" }, outputs)).toEqual([
            'platform stack acme/mlops/prod has an invalid modelFetchImage output "aws cli": expected an image reference (mlops:serving.modelFetchImage of the platform)',
        ]);
    });
});

describe("runMinutesOfDay", () => {
    it("lists the run times of a day in order", () => {
        expect(runMinutesOfDay(parseCron("30 2,14 * * *"))).toEqual([150, 870]);
    });
});
