/**
 * Writes docs/policy-catalogue.json, the machine-readable policy catalogue (policy/reports/catalogue.ts):
 * `npm run policy:catalogue`. `--check` exits 1 when the file is out of date.
 */
import * as fs from "fs";
import * as path from "path";
import { policyCatalogueJson } from "../policy/reports/catalogue";

const out = path.resolve(__dirname, "..", "docs", "policy-catalogue.json");
const text = policyCatalogueJson();
if (process.argv.includes("--check")) {
    if ((fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "") !== text) {
        console.error(`${path.relative(process.cwd(), out)} is out of date: run npm run policy:catalogue`);
        process.exit(1);
    }
    console.log(`${path.relative(process.cwd(), out)} is up to date`);
} else {
    fs.writeFileSync(out, text);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
