/**
 * Progress of a plan on stderr, phase by phase with the time each took, so a long plan is never silent:
 * on a terminal one live line (rewritten in place, with a running count and the elapsed time), otherwise
 * (CI, a redirected stderr) one plain line per finished phase.
 */

/** What a plan reports while it runs. */
export interface ProgressSink {
    /** A phase began (e.g. "running the program"). */
    start(phase: string): void;
    /** Something counted within the current phase (e.g. resources registered so far). */
    count(n: number, unit: string): void;
    /** The phase ended; `detail` says what it produced. */
    done(phase: string, detail?: string): void;
}

/** Reports nothing. */
export const NO_PROGRESS: ProgressSink = { start() {}, count() {}, done() {} };

export interface ProgressOptions {
    /** Where to write (default process.stderr). */
    stream?: { write(s: string): unknown; isTTY?: boolean };
    /** Live line (default: when the stream is a terminal and CI is not set). */
    live?: boolean;
    /** Prefix of every line, e.g. the stack name. */
    label?: string;
    /** Clock in seconds (tests). */
    now?: () => number;
    /** Milliseconds between live redraws (default 200). */
    intervalMs?: number;
}

/** "0.4s", "12.3s", "1m05s". */
export function formatSeconds(s: number): string {
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
}

/** Progress on a stream: a live line on a terminal, plain lines otherwise. */
export class Progress implements ProgressSink {
    private readonly stream: { write(s: string): unknown; isTTY?: boolean };
    private readonly live: boolean;
    private readonly now: () => number;
    private readonly phases = new Map<string, number>();
    private current: { phase: string; n?: number; unit?: string } | undefined;
    private timer: NodeJS.Timeout | undefined;
    private drawn = false;

    constructor(private readonly opts: ProgressOptions = {}) {
        this.stream = opts.stream ?? process.stderr;
        this.live = opts.live ?? (Boolean(this.stream.isTTY) && !process.env.CI);
        this.now = opts.now ?? (() => Number(process.hrtime.bigint()) / 1e9);
    }

    private prefix(): string {
        return this.opts.label ? `plan ${this.opts.label}: ` : "plan: ";
    }

    private draw(): void {
        if (!this.current) return;
        const c = this.current;
        const t = this.now() - (this.phases.get(c.phase) ?? this.now());
        const count = c.n !== undefined ? `, ${c.n} ${c.unit}` : "";
        this.stream.write(`\r\x1b[K${this.prefix()}${c.phase}... ${formatSeconds(t)}${count}`);
        this.drawn = true;
    }

    private clear(): void {
        if (this.drawn) this.stream.write("\r\x1b[K");
        this.drawn = false;
    }

    start(phase: string): void {
        this.phases.set(phase, this.now());
        this.current = { phase };
        if (!this.live) return;
        this.draw();
        if (!this.timer) {
            this.timer = setInterval(() => this.draw(), this.opts.intervalMs ?? 200);
            this.timer.unref();
        }
    }

    count(n: number, unit: string): void {
        if (this.current) Object.assign(this.current, { n, unit });
    }

    done(phase: string, detail?: string): void {
        const t0 = this.phases.get(phase);
        const took = t0 === undefined ? "" : ` in ${formatSeconds(this.now() - t0)}`;
        this.phases.delete(phase);
        if (this.live) this.clear();
        this.stream.write(`${this.prefix()}${phase}${detail ? `: ${detail}` : ""}${took}\n`);
        if (this.current?.phase === phase) this.current = undefined;
        // Another phase still running (the packs start while the program runs): keep showing it.
        if (!this.current && this.phases.size > 0) {
            const [last] = [...this.phases.keys()].slice(-1);
            this.current = { phase: last };
        }
        if (this.live) {
            if (this.current) this.draw();
            else this.stop();
        }
    }

    /** Stops the live line (idempotent). */
    stop(): void {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        if (this.live) this.clear();
    }
}
