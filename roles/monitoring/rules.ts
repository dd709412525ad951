/**
 * The alert rules for the operator's Prometheus: what breaks calls, from the services' own metrics
 * (job matrixrtc, targets.yml) and from rigger's runs from cron (--metrics, read by node_exporter's
 * textfile collector): each alert says what it saw and where to look.
 */
import type { MonitoringVars } from "./vars.js";

const RULES_GROUP = "matrixrtc";

interface Alert {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: "critical" | "warning" };
  annotations: { summary: string; description: string };
}

const alert = (
  name: string,
  expr: string,
  severity: Alert["labels"]["severity"],
  summary: string,
  description: string,
  wait?: string,
): Alert => ({
  alert: name,
  expr,
  ...(wait ? { for: wait } : {}),
  labels: { severity },
  annotations: { summary, description },
});

const HOURS = 3600;
const DAYS = 86_400;

export const alertRules = (vars: MonitoringVars) => ({
  groups: [
    {
      name: RULES_GROUP,
      rules: [
        alert(
          "MatrixRTCServiceDown",
          'up{job="matrixrtc"} == 0',
          "critical",
          "{{ $labels.service }} on {{ $labels.host }} does not answer",
          "Prometheus cannot scrape {{ $labels.service }} at {{ $labels.instance }}: the service is down, or the firewall no longer admits this Prometheus (metrics_clients). `npx tsx run playbooks/verify.ts` names what is wrong.",
          "2m",
        ),
        alert(
          "MatrixRTCNoLiveKitNode",
          'sum(up{job="matrixrtc",service="livekit"}) == 0',
          "critical",
          "No LiveKit node answers: no call can start or go on",
          "Every LiveKit node of the deployment is down. docker logs matrixrtc-livekit on each SFU host says why.",
          "1m",
        ),
        alert(
          "MatrixRTCDatabaseDown",
          'pg_up{job="matrixrtc"} == 0',
          "critical",
          "Synapse's database on {{ $labels.host }} does not answer its exporter",
          "postgres_exporter cannot reach PostgreSQL: Synapse cannot either.",
          "1m",
        ),
        alert(
          "MatrixRTCRedisDown",
          'redis_up{job="matrixrtc"} == 0',
          "critical",
          "Redis on {{ $labels.host }} does not answer: LiveKit's nodes lose their shared state",
          "redis_exporter cannot reach Redis with its password.",
          "1m",
        ),
        alert(
          "MatrixRTCCertificateExpiresSoon",
          `rigger_certificate_expiry_timestamp_seconds - time() < ${vars.monitoring_certificate_days * DAYS}`,
          "warning",
          "A certificate of {{ $labels.host }}'s proxy expires in less than " +
            `${vars.monitoring_certificate_days} days`,
          "It should have been renewed 30 days ahead: the proxy's log says why it was not (journalctl -u caddy).",
        ),
        alert(
          "MatrixRTCBackupTooOld",
          `time() - rigger_backup_newest_timestamp_seconds > ${vars.backup_max_age_hours * HOURS}`,
          "warning",
          `The newest backup of {{ $labels.host }} is older than ${vars.backup_max_age_hours} hours (or there is none)`,
          "journalctl -u matrixrtc-backup says why the timer's runs fail; npx tsx run playbooks/backup.ts makes one now.",
        ),
        alert(
          "MatrixRTCTurnFailing",
          'rigger_task_failed{role="coturn"} == 1 or increase(stun_binding_error{job="matrixrtc"}[10m]) > 10',
          "warning",
          "TURN on {{ $labels.host }} fails: users behind strict firewalls cannot reach calls",
          "A coturn check failed ({{ $labels.task }}), or coturn answers STUN with errors.",
        ),
        alert(
          "MatrixRTCJwtServiceFailing",
          'rigger_task_failed{role=~"lk_jwt|livekit_webhook"} == 1',
          "critical",
          "The jwt service on {{ $labels.host }} fails: Element Call gets no token to join",
          "{{ $labels.task }} failed in rigger's last run.",
        ),
        alert(
          "MatrixRTCCheckFailing",
          'rigger_task_failed{role!~"coturn|lk_jwt|livekit_webhook"} == 1',
          "warning",
          "{{ $labels.role }} on {{ $labels.host }}: {{ $labels.task }} failed",
          "A check of rigger's last run failed; playbooks/verify.ts shows what it saw, and docs/troubleshooting.md what to do.",
        ),
        alert(
          "RiggerDriftFound",
          'rigger_run_exit_code{mode="check"} == 3',
          "warning",
          "{{ $labels.playbook }} --check found hosts that differ from the inventory",
          "Someone changed a host by hand, or the inventory changed without a run: run the playbook to put it back.",
        ),
        alert(
          "RiggerRunFailed",
          "rigger_run_exit_code != 0 and rigger_run_exit_code != 3",
          "warning",
          "rigger's last run of {{ $labels.playbook }} failed (exit code {{ $value }})",
          "1: bad input, 2: a task or check failed, 4: a host unreachable (README, exit codes).",
        ),
        alert(
          "RiggerRunsStopped",
          `time() - rigger_run_end_timestamp_seconds > ${vars.monitoring_rigger_run_max_age_hours * HOURS}`,
          "warning",
          `rigger's {{ $labels.playbook }} has not run for ${vars.monitoring_rigger_run_max_age_hours} hours`,
          "Its cron job stopped: nothing checks the deployment for drift.",
        ),
      ],
    },
  ],
});
