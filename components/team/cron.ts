/**
 * Cron schedules as Kubernetes reads them: pure functions to validate a CronJob schedule and time zone,
 * and to derive what the platform needs from a schedule (the longest and shortest gap between runs, the
 * staleness window of its alert, the output partition of a run).
 *
 * The grammar is the one the CronJob controller parses (robfig/cron v3, `ParseStandard`): five fields
 * (minute, hour, day of month, month, day of week), each a `*`, a value, a range `a-b`, a step `x/n`
 * (`x` being `*`, a value or a range) or a comma-separated list of those; month and day-of-week names
 * (`JAN`, `MON`, any case); `?` for `*` in the day fields; day of week `0`-`6` (Sunday is `0`, `7` is
 * refused as the controller refuses it); and the descriptors `@yearly`, `@annually`, `@monthly`,
 * `@weekly`, `@daily`, `@midnight` and `@hourly`. When both day fields are restricted a day matches if
 * either does (standard cron); when one is `*` both must.
 *
 * Gaps are computed in wall-clock time of the job's time zone over a full 400-year Gregorian cycle, so
 * schedules like "the 29th of February" or "the 31st" get their true longest gap. Daylight-saving
 * transitions are not modelled: they shift one run a year by an hour (see docs/team-guide.md).
 */
import { STALE_FACTOR } from "../shared/alertRules";

/** A parsed schedule: the sets of values each field matches. */
export interface CronSchedule {
    /** The five-field expression (a descriptor is expanded). */
    readonly expression: string;
    readonly minutes: readonly number[];
    readonly hours: readonly number[];
    readonly daysOfMonth: readonly number[];
    readonly months: readonly number[];
    /** 0 (Sunday) to 6 (Saturday). */
    readonly daysOfWeek: readonly number[];
    /** The day-of-month field is `*` (or `?`, `*\/1`): then a day must match both day fields. */
    readonly domStar: boolean;
    /** The day-of-week field is `*` (or `?`, `*\/1`). */
    readonly dowStar: boolean;
}

/** Thrown for a malformed schedule; `message` says which field is wrong and what is allowed. */
export class CronError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CronError";
    }
}

interface FieldSpec {
    readonly name: string;
    readonly min: number;
    readonly max: number;
    readonly names?: readonly string[];
    /** Accepts `?` as `*` (the day fields). */
    readonly question?: boolean;
    readonly hint: string;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly FieldSpec[] = [
    { name: "minute", min: 0, max: 59, hint: "0-59" },
    { name: "hour", min: 0, max: 23, hint: "0-23" },
    { name: "day-of-month", min: 1, max: 31, question: true, hint: "1-31" },
    { name: "month", min: 1, max: 12, names: MONTH_NAMES, hint: "1-12 or JAN-DEC" },
    { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES, question: true, hint: "0-6 or SUN-SAT, 0 is Sunday" },
];

/** The descriptors the controller accepts, as five-field expressions. */
export const CRON_DESCRIPTORS: Readonly<Record<string, string>> = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
};

function parseValue(token: string, f: FieldSpec, part: string): number {
    if (/^\d+$/.test(token)) {
        const v = Number(token);
        if (v < f.min || v > f.max) throw new CronError(`${f.name} "${part}" is out of range ${f.hint}`);
        return v;
    }
    const i = f.names?.indexOf(token.toUpperCase()) ?? -1;
    if (i >= 0) return i + f.min;
    throw new CronError(`${f.name} "${part}" is not a number${f.names ? " or a name" : ""} (allowed: ${f.hint})`);
}

/** The values one field matches, and whether it counts as `*`. */
function parseField(text: string, f: FieldSpec): { values: number[]; star: boolean } {
    const values = new Set<number>();
    let star = false;
    for (const part of text.split(",")) {
        if (part === "") throw new CronError(`${f.name} "${text}" has an empty list item`);
        const [range, stepText, extra] = part.split("/");
        if (extra !== undefined) throw new CronError(`${f.name} "${part}" has more than one step`);
        let step = 1;
        if (stepText !== undefined) {
            if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronError(`${f.name} "${part}" has a step that is not a positive number`);
            step = Number(stepText);
        }
        let lo: number;
        let hi: number;
        if (range === "*" || (range === "?" && f.question)) {
            [lo, hi] = [f.min, f.max];
            if (step === 1) star = true;
        } else if (range.includes("-")) {
            const [a, b, more] = range.split("-");
            if (more !== undefined || a === "" || b === "") throw new CronError(`${f.name} "${part}" is not a range like 1-5`);
            [lo, hi] = [parseValue(a, f, part), parseValue(b, f, part)];
            if (lo > hi) throw new CronError(`${f.name} "${part}" starts after it ends`);
        } else {
            lo = parseValue(range, f, part);
            // `5/15` is 5 through the maximum in steps of 15.
            hi = stepText !== undefined ? f.max : lo;
        }
        for (let v = lo; v <= hi; v += step) values.add(v);
    }
    return { values: [...values].sort((a, b) => a - b), star };
}

/**
 * Parses a CronJob schedule.
 * @throws CronError naming the bad field, e.g. `minute "61" is out of range 0-59`.
 */
export function parseCron(expression: string): CronSchedule {
    const text = expression.trim();
    if (/^(CRON_)?TZ=/.test(text)) throw new CronError("a time zone inside the schedule (TZ= or CRON_TZ=) is refused by Kubernetes: set timeZone instead");
    if (text.startsWith("@")) {
        const expanded = CRON_DESCRIPTORS[text.toLowerCase()];
        if (!expanded) throw new CronError(`"${text}" is not a supported descriptor (${Object.keys(CRON_DESCRIPTORS).join(", ")})`);
        return parseCron(expanded);
    }
    const parts = text.split(/\s+/);
    if (parts.length !== 5) {
        throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${text === "" ? 0 : parts.length}`);
    }
    const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]));
    const schedule: CronSchedule = {
        expression: parts.join(" "),
        minutes: minute.values,
        hours: hour.values,
        daysOfMonth: dom.values,
        months: month.values,
        daysOfWeek: dow.values,
        domStar: dom.star,
        dowStar: dow.star,
    };
    // A schedule that never fires (the 30th of February) is accepted by the controller and never runs.
    if (matchingDays(schedule).length === 0) {
        throw new CronError(`it never runs: no day is both in months ${month.values.join(",")} and on days-of-month ${dom.values.join(",")}`);
    }
    return schedule;
}

/** Days in a 400-year Gregorian cycle (exactly 20871 weeks: the calendar repeats after it). */
export const GREGORIAN_CYCLE_DAYS = 146097;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Matching days by day fields: a schedule's days are computed once (a 400-year walk takes a few ms). */
const dayCache = new Map<string, readonly number[]>();

/** Indices (days since 2000-01-01) of the days in one 400-year cycle on which the schedule runs. */
function matchingDays(s: CronSchedule): readonly number[] {
    const key = [s.daysOfMonth.join(","), s.months.join(","), s.daysOfWeek.join(","), s.domStar, s.dowStar].join("|");
    let days = dayCache.get(key);
    if (!days) {
        days = walkCycle(s);
        if (dayCache.size >= 1024) dayCache.clear();
        dayCache.set(key, days);
    }
    return days;
}

function walkCycle(s: CronSchedule): number[] {
    const months = new Set(s.months);
    const doms = new Set(s.daysOfMonth);
    const dows = new Set(s.daysOfWeek);
    const days: number[] = [];
    // 2000-01-01 was a Saturday.
    let [year, month, dom, dow] = [2000, 1, 1, 6];
    for (let i = 0; i < GREGORIAN_CYCLE_DAYS; i++) {
        if (months.has(month)) {
            const domMatch = doms.has(dom);
            const dowMatch = dows.has(dow);
            if (s.domStar || s.dowStar ? domMatch && dowMatch : domMatch || dowMatch) days.push(i);
        }
        dow = (dow + 1) % 7;
        const length = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
        if (++dom > length) {
            dom = 1;
            if (++month > 12) {
                month = 1;
                year++;
            }
        }
    }
    return days;
}

/** Minutes of the day at which the schedule runs (on the days it runs), ascending. */
export function runMinutesOfDay(s: CronSchedule): number[] {
    return s.hours.flatMap((h) => s.minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
}

/** The shortest and longest wall-clock time between two consecutive runs, in seconds. */
export interface RunGaps {
    readonly minGapSeconds: number;
    readonly maxGapSeconds: number;
}

/** The shortest and longest gap between consecutive runs of a schedule (wall-clock, over a full calendar cycle). */
export function runGaps(schedule: CronSchedule | string): RunGaps {
    const s = typeof schedule === "string" ? parseCron(schedule) : schedule;
    const times = runMinutesOfDay(s);
    const days = matchingDays(s);
    let minGap = Infinity;
    let maxGap = 0;
    for (let i = 1; i < times.length; i++) {
        minGap = Math.min(minGap, times[i] - times[i - 1]);
        maxGap = Math.max(maxGap, times[i] - times[i - 1]);
    }
    const [first, last] = [times[0], times[times.length - 1]];
    for (let i = 0; i < days.length; i++) {
        // The last matching day of the cycle is followed by the first one of the next cycle.
        const next = i + 1 < days.length ? days[i + 1] : days[0] + GREGORIAN_CYCLE_DAYS;
        const gap = (next - days[i]) * 1440 - last + first;
        minGap = Math.min(minGap, gap);
        maxGap = Math.max(maxGap, gap);
    }
    return { minGapSeconds: minGap * 60, maxGapSeconds: maxGap * 60 };
}

/**
 * How long after its last success a scheduled job counts as stale: the longest gap between two runs
 * times {@link STALE_FACTOR}, in whole seconds. A job that misses one run is stale before the run after it.
 */
export function stalenessWindowSeconds(schedule: CronSchedule | string): number {
    return Math.ceil(runGaps(schedule).maxGapSeconds * STALE_FACTOR);
}

/**
 * The output partition of a run, as a `strftime` template applied to the run's scheduled time in the
 * job's time zone: `run_date=%Y-%m-%d` when the job runs at most once a day, with `/run_time=%H%M`
 * appended when it runs several times a day, so no two runs write the same partition.
 */
export function partitionTemplate(schedule: CronSchedule | string): string {
    const s = typeof schedule === "string" ? parseCron(schedule) : schedule;
    return runMinutesOfDay(s).length > 1 ? "run_date=%Y-%m-%d/run_time=%H%M" : "run_date=%Y-%m-%d";
}

/** Applies a partition template (`%Y %m %d %H %M` only) to wall-clock date parts. */
export function renderPartition(template: string, t: { year: number; month: number; day: number; hour: number; minute: number }): string {
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    return template.replace(
        /%([YmdHM])/g,
        (_, c: string) => ({ Y: pad(t.year, 4), m: pad(t.month), d: pad(t.day), H: pad(t.hour), M: pad(t.minute) })[c] as string,
    );
}

/** Time zones the runtime knows (`Intl.supportedValuesOf`), which lists canonical names only. */
let knownZones: Set<string> | undefined;

/**
 * Is `zone` an IANA time zone name the CronJob controller accepts (`Etc/UTC`, `Europe/Berlin`)? Names
 * are case-sensitive as in the tz database; offsets (`+01:00`) and abbreviations (`CET`) are refused.
 * Aliases the runtime does not list as canonical (`UTC`, `Etc/UTC`, `Asia/Kolkata`) are accepted when
 * the runtime resolves them.
 */
export function isIanaTimeZone(zone: string): boolean {
    knownZones ??= new Set(Intl.supportedValuesOf("timeZone"));
    if (knownZones.has(zone)) return true;
    if (!/^(UTC|GMT|[A-Z][A-Za-z0-9_+-]*(\/[A-Z0-9][A-Za-z0-9_+-]*)+)$/.test(zone)) return false;
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
        return true;
    } catch {
        return false;
    }
}

/** `90` -> `1m 30s`, `86400` -> `1d`, `129600` -> `1d 12h`: durations as people read them (two largest units). */
export function formatDuration(seconds: number): string {
    const units: [string, number][] = [
        ["d", 86400],
        ["h", 3600],
        ["m", 60],
        ["s", 1],
    ];
    let rest = Math.round(seconds);
    const parts: string[] = [];
    for (const [unit, size] of units) {
        if (rest >= size) {
            parts.push(`${Math.floor(rest / size)}${unit}`);
            rest %= size;
        }
    }
    return parts.length === 0 ? "0s" : parts.slice(0, 2).join(" ");
}
