/**
 * Rolling rollouts, as Ansible's `serial` and `max_fail_percentage`: a play's hosts in batches, each
 * batch health-gated (a host whose checks fail has failed), the rollout stopped once a batch spends
 * the failure budget, the hosts of later batches left untouched.
 */

/** A batch size: a number of hosts, or a percentage of the play's hosts ("50%"). */
export type BatchSize = number | `${number}%`;
export type Serial = BatchSize | BatchSize[];

const SIZE = /^(\d+(?:\.\d+)?)%$/;

/** Why a serial value is not one, or undefined when it is. */
export function serialProblem(serial: unknown): string | undefined {
  const sizes = Array.isArray(serial) ? serial : [serial];
  if (sizes.length === 0) return "expected a batch size, or a list of them";
  for (const size of sizes) {
    if (
      typeof size === "number"
        ? Number.isInteger(size) && size >= 1
        : typeof size === "string" && SIZE.test(size) && Number(SIZE.exec(size)![1]) > 0
    )
      continue;
    return `${JSON.stringify(size)} is not a batch size: expected a whole number of hosts (1 or more) or a percentage such as "50%"`;
  }
  return undefined;
}

/**
 * The play's hosts cut into batches: each size of the list in turn (a percentage of all the play's
 * hosts, at least one), the last size repeated until every host has its batch. No serial: one batch.
 */
export function batches<T>(hosts: T[], serial: Serial | undefined): T[][] {
  if (serial === undefined) return hosts.length ? [hosts] : [];
  const sizes = (Array.isArray(serial) ? serial : [serial]).map((size) =>
    typeof size === "number" ? size : Math.max(1, Math.floor((hosts.length * Number(SIZE.exec(size)![1])) / 100)),
  );
  const result: T[][] = [];
  for (let start = 0, i = 0; start < hosts.length; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    result.push(hosts.slice(start, start + size));
    start += size;
  }
  return result;
}

/** Whether a batch's failures spend the budget: more than `maxFailPercentage` of it (default 0: any failure). */
export const budgetSpent = (failed: number, batchSize: number, maxFailPercentage = 0) =>
  failed > 0 && (failed / batchSize) * 100 > maxFailPercentage;
