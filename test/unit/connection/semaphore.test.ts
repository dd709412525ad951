import { expect, it } from "vitest";
import { Semaphore } from "../../../src/connection/semaphore.js";

it("never admits more than its limit and serves waiters in order", async () => {
  const semaphore = new Semaphore(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const job = (id: number) =>
    semaphore.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(id);
      active--;
      return id;
    });
  const results = await Promise.all([1, 2, 3, 4, 5].map(job));
  expect(results).toEqual([1, 2, 3, 4, 5]);
  expect(peak).toBe(2);
  expect(order.slice(2)).toEqual([3, 4, 5]);
});

it("releases its slot when the work fails", async () => {
  const semaphore = new Semaphore(1);
  await expect(semaphore.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  await expect(semaphore.run(async () => "next")).resolves.toBe("next");
});
