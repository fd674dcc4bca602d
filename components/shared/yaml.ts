/**
 * YAML that every reader takes the same way: the files the platform writes for kubectl (YAML 1.1,
 * sigs.k8s.io/yaml), Prometheus, promtool and Alertmanager (go-yaml), and YAML 1.2 tools alike.
 */
import * as jsYaml from "js-yaml";

/**
 * Plain scalars a YAML 1.1 reader takes for something other than a string: booleans (`yes`, `on`, `y`...),
 * nulls, the merge key and value indicators, and anything that starts like a number (1.1 reads `1_000`,
 * `0b11`, `0777` and `1:30` as integers, `.` and `.inf` as floats; lax readers take `e0` for one).
 * Over-matching only adds quotes, which never changes a value.
 */
const YAML11_NON_STRING = /^(?:y|yes|n|no|true|false|on|off|null|~|<<|=|[-+]?[0-9.].*|[-+]?[0-9._]*e[-+]?[0-9_]*)$/i;

/** js-yaml's default schema, plus the YAML 1.1 readings above, so the dumper quotes those strings too. */
const PORTABLE_SCHEMA = jsYaml.DEFAULT_SCHEMA.extend({
    implicit: [
        new jsYaml.Type("tag:mlops.acme.io,2026:yaml11-non-string", {
            kind: "scalar",
            resolve: (s: string | null) => s !== null && YAML11_NON_STRING.test(s),
            construct: (s: string) => s,
        }),
    ],
});

/**
 * `value` as YAML that YAML 1.1 and 1.2 readers read back unchanged: strings such as `yes`, `on`, `y` or
 * `1_000`, which a 1.1 reader takes for booleans or numbers, are quoted (the `yaml` package's stringify
 * writes them plain); no anchors; no line folding.
 */
export function portableYaml(value: unknown): string {
    return jsYaml.dump(value, { lineWidth: -1, noRefs: true, schema: PORTABLE_SCHEMA });
}
