/**
 * Operating notes: the one page an on-call engineer reads about a model workload. Rendered as Markdown
 * by a pure function from what the component knows (owner, model, thresholds, schedule), shipped with
 * the workload as a ConfigMap (`kubectl get configmap <name>-operating-note -o jsonpath='{.data.README\.md}'`),
 * exposed as a component output, and written to docs/operating-notes/ for the example team project.
 */
import { ALERTS, type AlertName } from "../shared/alertRules";

/** One monitored signal: an alert and when it fires, with this workload's threshold. */
export interface NoteSignal {
    readonly alert: AlertName;
    /** When it fires, in words, with the threshold that applies to this workload. */
    readonly firesWhen: string;
}

/** The content of an operating note. Text fields are Markdown. */
export interface OperatingNote {
    /** Title, e.g. `fraud-scorer: online model service`. */
    readonly title: string;
    /** A paragraph: what the workload does and for whom. */
    readonly summary: string;
    /** Key facts, as rows of a two-column table (Owner, Model, Version, Namespace...). */
    readonly facts: readonly (readonly [string, string])[];
    /** What can fail, one item per failure mode. */
    readonly failures: readonly string[];
    /** The alerts that watch the workload. */
    readonly signals: readonly NoteSignal[];
    /** Base URL of docs/runbooks: each alert links to `<url>/<runbook>.md`. */
    readonly runbookBaseUrl: string;
    /** What happens after an alert, as ordered steps. */
    readonly afterAlert: readonly string[];
    /** How to roll back: paragraphs and fenced code blocks, in order. */
    readonly rollback: readonly string[];
}

/** A table cell: no line breaks, pipes escaped. */
function cell(text: string): string {
    return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** URL of an alert's runbook. */
export function runbookUrl(runbookBaseUrl: string, alert: AlertName): string {
    return `${runbookBaseUrl.replace(/\/+$/, "")}/${ALERTS[alert].runbook}.md`;
}

/** Renders a note as Markdown. Deterministic: the same note always gives the same text. */
export function renderOperatingNote(note: OperatingNote): string {
    const lines: string[] = [
        `# ${note.title}`,
        "",
        note.summary,
        "",
        "| | |",
        "| --- | --- |",
        ...note.facts.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
        "",
        "## What can fail",
        "",
        ...note.failures.map((f) => `- ${f}`),
        "",
        "## Monitored signals",
        "",
        "| Alert | Severity | Fires when | Runbook |",
        "| --- | --- | --- | --- |",
        ...note.signals.map(
            (s) =>
                `| ${s.alert} | ${ALERTS[s.alert].severity} | ${cell(s.firesWhen)} | [${ALERTS[s.alert].runbook}](${runbookUrl(note.runbookBaseUrl, s.alert)}) |`,
        ),
        "",
        "## After an alert",
        "",
        ...note.afterAlert.map((step, i) => `${i + 1}. ${step}`),
        "",
        "## Rollback",
        "",
        ...note.rollback.flatMap((p) => [p, ""]),
    ];
    return `${lines.join("\n").trimEnd()}\n`;
}
