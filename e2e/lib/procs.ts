/**
 * Processes the suites start on loopback: free ports from the OS, a started process with its output kept
 * (and shown when a test fails), run-to-completion commands, and polling.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** Can a TCP connection to the port be opened (what a tcpSocket probe does)? */
export function tcpConnects(port: number, host = "127.0.0.1", timeoutMs = 3000): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ port, host });
        const done = (ok: boolean) => {
            s.destroy();
            resolve(ok);
        };
        s.setTimeout(timeoutMs, () => done(false));
        s.once("connect", () => done(true));
        s.once("error", () => done(false));
    });
}

export interface RunOptions {
    env?: Record<string, string>;
    cwd?: string;
    input?: string;
    timeoutMs?: number;
}

export interface RunResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`, default 5 minutes). Never throws on exit codes. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, [...args], { env: opts.env ?? (process.env as Record<string, string>), cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
        child.stdin.end(opts.input ?? "");
    });
}

/** A long-running process started by a suite (in its own process group, so its children stop with it). */
export class Proc {
    readonly child: ChildProcess;
    output = "";
    exitCode: number | null | undefined = undefined;
    readonly exited: Promise<number | null>;

    constructor(
        readonly name: string,
        cmd: string,
        args: readonly string[],
        opts: { env?: Record<string, string>; cwd?: string } = {},
    ) {
        this.child = spawn(cmd, [...args], { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
        const keep = (d: Buffer) => {
            this.output += d.toString();
            if (this.output.length > 400_000) this.output = this.output.slice(-200_000);
        };
        this.child.stdout?.on("data", keep);
        this.child.stderr?.on("data", keep);
        this.exited = new Promise((resolve) => {
            this.child.on("exit", (code) => {
                this.exitCode = code;
                resolve(code);
            });
            this.child.on("error", (e) => {
                this.output += `\nspawn error: ${e.message}`;
                this.exitCode = -1;
                resolve(-1);
            });
        });
    }

    get pid(): number {
        return this.child.pid ?? -1;
    }

    get running(): boolean {
        return this.exitCode === undefined;
    }

    /** Sends a signal to the process only (not its group). */
    signal(sig: NodeJS.Signals): void {
        if (this.running) process.kill(this.pid, sig);
    }

    /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when it has exited. */
    async stop(graceMs = 10_000): Promise<void> {
        if (!this.running) return;
        const group = (sig: NodeJS.Signals) => {
            try {
                process.kill(-this.pid, sig);
            } catch {
                /* already gone */
            }
        };
        group("SIGTERM");
        const timer = setTimeout(() => group("SIGKILL"), graceMs);
        await this.exited;
        clearTimeout(timer);
        group("SIGKILL"); // stragglers of the group (gunicorn workers)
    }

    /** The last lines of its output, for a failure message. */
    tail(lines = 40): string {
        return this.output.split("\n").slice(-lines).join("\n");
    }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs = 60_000,
    everyMs = 250,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined && v !== false) return v as T;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/** Command lines (argv joined by spaces) of a process and all its descendants, from /proc. */
export function processTreeArgv(rootPid: number): string[] {
    const children = new Map<number, number[]>();
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
        } catch {
            /* gone */
        }
    }
    const out: string[] = [];
    const visit = (pid: number) => {
        try {
            out.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim());
        } catch {
            /* gone */
        }
        for (const c of children.get(pid) ?? []) visit(c);
    };
    visit(rootPid);
    return out;
}
