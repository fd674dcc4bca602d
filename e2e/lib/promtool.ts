/**
 * PromQL evaluated by the real Prometheus engine (`promtool test rules`, Debian `prometheus`) on series
 * the suites scraped from real servers, and `promtool check metrics` on a real /metrics body.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { run, type RunResult } from "./procs";

/** One series of a text exposition: its name and labels (the value is not kept). */
export interface ScrapedSeries {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly value: number;
}

/** Parses a Prometheus text exposition (comments skipped). */
export function parseExposition(text: string): ScrapedSeries[] {
    const out: ScrapedSeries[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim() || line.startsWith("#")) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
        if (!m) throw new Error(`not an exposition line: ${line}`);
        const labels: Record<string, string> = {};
        for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\"/g, '"').replace(/\\\\/g, "\\");
        out.push({ name: m[1], labels, value: Number(m[4]) });
    }
    return out;
}

/** A series selector for promtool's input_series. */
export function seriesSelector(name: string, labels: Record<string, string>): string {
    const ls = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${name}{${ls.join(", ")}}`;
}

/**
 * Evaluates `expr` at `evalTime` over input series (promtool syntax `values`) and checks it returns
 * exactly `expected` (labels in PromQL selector form, e.g. `{}`). Returns promtool's result: code 0
 * when the expectation holds.
 */
export async function promqlTest(o: {
    series: { series: string; values: string }[];
    expr: string;
    evalTime: string;
    expected: { labels: string; value: number }[];
}): Promise<RunResult> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-promtool-"));
    try {
        const file = path.join(dir, "test.yaml");
        fs.writeFileSync(
            file,
            YAML.stringify({
                rule_files: [],
                evaluation_interval: "1m",
                tests: [{ interval: "1m", input_series: o.series, promql_expr_test: [{ expr: o.expr, eval_time: o.evalTime, exp_samples: o.expected }] }],
            }),
        );
        return await run("promtool", ["test", "rules", file]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** `promtool check metrics` on an exposition (lint: names, help, types, units). */
export function promtoolCheckMetrics(text: string): Promise<RunResult> {
    return run("promtool", ["check", "metrics"], { input: text });
}
