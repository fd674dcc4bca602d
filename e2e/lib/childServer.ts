/**
 * Servers a suite starts on loopback: a free port from the OS, a child process whose output is kept for
 * the failure message, a wait until it answers, and a stop that always runs (afterAll).
 */
import { type ChildProcess, spawn } from "child_process";
import * as net from "net";

/** A TCP port on 127.0.0.1 that the OS reports free (bound to port 0, then released). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** A started server process. */
export interface Server {
    readonly name: string;
    readonly url: string;
    readonly process: ChildProcess;
    /** What it printed so far (stdout and stderr). */
    output(): string;
    stop(): Promise<void>;
}

/** Starts `command` and waits until `url + readyPath` answers 2xx (or fails with what it printed). */
export async function startServer(
    name: string,
    command: string,
    args: string[],
    url: string,
    opts: { env?: NodeJS.ProcessEnv; readyPath?: string; timeoutMs?: number } = {},
): Promise<Server> {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const server: Server = {
        name,
        url,
        process: child,
        output: () => out,
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
                child.once("exit", () => {
                    clearTimeout(kill);
                    resolve();
                });
                child.kill("SIGTERM");
            }),
    };
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
        try {
            const res = await fetch(url + (opts.readyPath ?? "/"));
            if (res.ok) return server;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) {
            await server.stop();
            throw new Error(`${name} did not answer at ${url} within ${opts.timeoutMs ?? 30_000} ms:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
}
