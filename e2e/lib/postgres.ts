/**
 * A throwaway PostgreSQL server from Debian's `postgresql` package, on a free loopback port in a temp
 * dir, with password (scram-sha-256) authentication and TLS on (a self-signed certificate: the rendered
 * URIs of test and prod say `sslmode=require`, which encrypts without verifying). PostgreSQL refuses to
 * run as root: as root, the cluster is owned by and run as the `postgres` user (or `nobody`).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, run, waitFor } from "./procs";

/** The newest installed PostgreSQL's bin directory. */
export function postgresBinDir(): string {
    const base = "/usr/lib/postgresql";
    const majors = fs.existsSync(base) ? fs.readdirSync(base).filter((d) => fs.existsSync(path.join(base, d, "bin", "postgres"))) : [];
    if (majors.length === 0) throw new Error("PostgreSQL is not installed (apt-get install postgresql; e2e/setup/install.sh does)");
    return path.join(base, majors.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

export interface PostgresServer {
    readonly port: number;
    readonly dir: string;
    /** The superuser and its password. */
    readonly user: string;
    readonly password: string;
    /** Runs SQL as the superuser in a database; returns psql's unaligned, tuples-only output. */
    sql(database: string, statement: string): Promise<string>;
    /** Stops the server (fast shutdown); `start` starts it again on the same port. */
    stop(): Promise<void>;
    start(): Promise<void>;
    /** Stops it and removes its directory. */
    destroy(): Promise<void>;
}

/** Starts a PostgreSQL cluster whose superuser is `user` with `password`, with the databases `databases`. */
export async function startPostgres(o: { user: string; password: string; databases: readonly string[] }): Promise<PostgresServer> {
    const bin = postgresBinDir();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-pg-"));
    const data = path.join(dir, "data");
    const port = await freePort();
    const asRoot = process.getuid?.() === 0;
    const osUser = asRoot ? (hasUser("postgres") ? "postgres" : "nobody") : undefined;
    // As root, run the server's programs as osUser; the commands take no secrets on their command line.
    const as = (cmd: string, args: string[]): [string, string[]] => (osUser ? ["runuser", ["-u", osUser, "--", cmd, ...args]] : [cmd, args]);
    const pwfile = path.join(dir, "pwfile");
    fs.writeFileSync(pwfile, `${o.password}\n`, { mode: 0o600 });
    if (osUser) execFileSync("chown", ["-R", osUser, dir]);
    const initdb = as(path.join(bin, "initdb"), [
        "-D",
        data,
        "-U",
        o.user,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    ]);
    const init = await run(initdb[0], initdb[1], { timeoutMs: 120_000 });
    if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);
    fs.rmSync(pwfile);
    // TLS with a self-signed certificate (sslmode=require does not verify it).
    const cert = await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        path.join(data, "server.key"),
        "-out",
        path.join(data, "server.crt"),
    ]);
    if (cert.code !== 0) throw new Error(`openssl failed: ${cert.stderr}`);
    fs.chmodSync(path.join(data, "server.key"), 0o600);
    fs.appendFileSync(
        path.join(data, "postgresql.conf"),
        [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, "ssl = on", "fsync = off", "max_connections = 200", ""].join(
            "\n",
        ),
    );
    if (osUser) execFileSync("chown", ["-R", osUser, dir]);
    const env = { ...process.env, PGPASSWORD: o.password } as Record<string, string>;
    const psql = async (database: string, statement: string): Promise<string> => {
        const r = await run(
            path.join(bin, "psql"),
            ["-h", "127.0.0.1", "-p", String(port), "-U", o.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", statement],
            { env },
        );
        if (r.code !== 0) throw new Error(`psql ${database}: ${r.stderr}`);
        return r.stdout.trim();
    };
    const start = async () => {
        const c = as(path.join(bin, "pg_ctl"), ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
        const r = await run(c[0], c[1], { timeoutMs: 90_000 });
        if (r.code !== 0) throw new Error(`pg_ctl start failed: ${r.stderr}${r.stdout}\n${readLog(dir)}`);
        await waitFor("postgres to accept connections", async () => (await psql("postgres", "SELECT 1")) === "1", 30_000);
    };
    const stop = async () => {
        const c = as(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
        await run(c[0], c[1], { timeoutMs: 60_000 });
    };
    await start();
    for (const db of o.databases) await psql("postgres", `CREATE DATABASE "${db}"`);
    return {
        port,
        dir,
        user: o.user,
        password: o.password,
        sql: psql,
        start,
        stop,
        destroy: async () => {
            await stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

function hasUser(name: string): boolean {
    try {
        execFileSync("id", ["-u", name], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

function readLog(dir: string): string {
    try {
        return fs.readFileSync(path.join(dir, "log"), "utf8").slice(-3000);
    } catch {
        return "";
    }
}
