import { stringify } from "yaml";
import { check, command, defineRole, directory, file, sh } from "../../src/rigger.js";
import { METRICS } from "../matrixrtc/index.js";
import { alertRules } from "./rules.js";
import { deploymentTargets } from "./targets.js";
import { monitoringVars, type MonitoringVars, type Target } from "./vars.js";

const JOB = "matrixrtc";
const MANAGED = "# Managed by rigger (role monitoring): edits here are undone by the next run.\n";

/**
 * Your Prometheus, told what to watch: the metrics endpoints of every host of the deployment
 * (file_sd targets, read by Prometheus as they change), a scrape job for them and the alert rules,
 * each file checked with promtool before it is used; Prometheus reloaded when the rules change.
 */
export default defineRole({
  name: "monitoring",
  vars: monitoringVars,
  derive: (fleet) => ({ monitoring_targets: deploymentTargets(fleet) }),
  tasks: (vars) => {
    const dir = vars.prometheus_config_dir;
    return [
      directory({ path: dir, mode: 0o755 }),
      file({ path: `${dir}/targets.yml`, content: MANAGED + stringify(targetGroups(vars.monitoring_targets)) }),
      file({
        path: `${dir}/scrape.yml`,
        content: MANAGED + stringify(scrapeConfig(vars)),
        validate: `${PROMTOOL} check config %s`,
        notify: "reload prometheus",
      }),
      file({
        path: `${dir}/rules.yml`,
        content: MANAGED + stringify(alertRules(vars)),
        validate: `${PROMTOOL} check rules %s`,
        notify: "reload prometheus",
      }),
    ];
  },
  handlers: (vars) => ({ "reload prometheus": command({ name: "prometheus reloaded", run: vars.prometheus_reload }) }),
  verify: (vars) => [
    check({
      name: "prometheus has loaded the alert rules",
      command: `${apiGet(vars, "/api/v1/rules")} | ${sh`python3 -c ${RULES_LOADED} ${`${vars.prometheus_config_dir}/rules.yml`}`}`,
      timeoutSeconds: 30,
      failure: `Prometheus does not load ${vars.prometheus_config_dir}/rules.yml: list it under rule_files in prometheus.yml, and the job of scrape.yml under scrape_configs (roles/monitoring/README.md)`,
    }),
    check({
      name: `prometheus scrapes every target, each up (${vars.monitoring_targets.length})`,
      command: `${apiGet(vars, "/api/v1/targets?state=active")} | ${sh`python3 -c ${TARGETS_UP} ${JOB} ${String(vars.monitoring_targets.length)}`}`,
      timeoutSeconds: 60,
      failure: `Prometheus does not scrape all ${vars.monitoring_targets.length} targets of job ${JOB}, or one is down (its evidence names it)`,
    }),
  ],
});

const PROMTOOL = `{ command -v promtool >/dev/null || { echo 'promtool not found: is Prometheus installed on this host?'; exit 1; }; } && promtool`;

const apiGet = (vars: MonitoringVars, path: string) => sh`curl -fsS --max-time 10 ${`${vars.prometheus_url}${path}`}`;

/** Reads /api/v1/rules: the rule files Prometheus loaded; fails unless ours is one. */
const RULES_LOADED = `import json, sys
files = sorted({g["file"] for g in json.load(sys.stdin)["data"]["groups"]})
print("rule files loaded:", ", ".join(files) or "none")
sys.exit(0 if sys.argv[1] in files else 1)`;

/** Reads /api/v1/targets: each target of the job with its health; fails unless there are as many as expected, all up. */
const TARGETS_UP = `import json, sys
job, expected = sys.argv[1], int(sys.argv[2])
targets = [t for t in json.load(sys.stdin)["data"]["activeTargets"] if t["labels"].get("job") == job]
for t in targets:
    print(t["labels"].get("service"), t["labels"].get("host"), t["scrapeUrl"], t["health"], t.get("lastError", ""))
sys.exit(0 if len(targets) == expected and all(t["health"] == "up" for t in targets) else 1)`;

/** file_sd's format: a group per endpoint, labelled with its service and inventory host, its path where it is not /metrics. */
const targetGroups = (targets: Target[]) =>
  targets.map((t) => ({
    targets: [`${t.address.includes(":") ? `[${t.address}]` : t.address}:${t.port}`],
    labels: {
      service: t.service,
      host: t.host,
      ...(METRICS[t.service].path === "/metrics" ? {} : { __metrics_path__: METRICS[t.service].path }),
    },
  }));

/** The scrape job (for scrape_configs, or the whole file for scrape_config_files from Prometheus 2.43). */
const scrapeConfig = (vars: MonitoringVars) => ({
  scrape_configs: [{ job_name: JOB, file_sd_configs: [{ files: [`${vars.prometheus_config_dir}/targets.yml`] }] }],
});
