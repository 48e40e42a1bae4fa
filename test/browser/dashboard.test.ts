// Issue "See it work": sign in to the dashboard, watch a map scale a pool up
// and down on the live chart, read the failed call's error, and change
// minContainers from the page. Screenshots go to test-artifacts/.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Client } from "../../sdk/src/index";
import { ROOT } from "../fixtures/platform";
import { eventually } from "../fixtures/wait";
import { artifact, launchChromium } from "./browser";

const url = (): string => inject("dashboardUrl");
const token = (): string => inject("dashboardToken");
const client = (): Client => new Client({ url: url(), token: token() });

let browser: Browser;
let page: Page;

beforeAll(async () => {
  // Deployed the way a user would: the CLI, with the platform in the environment.
  await promisify(execFile)(process.execPath, [resolve(ROOT, "sdk/bin/squall.js"), "deploy", "test/browser/apps/dashboard-demo.ts"], {
    cwd: ROOT,
    env: { ...process.env, SQUALL_URL: url(), SQUALL_TOKEN: token() },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
});

/** The pool card of slowSquare, and one of its live numbers as the page shows it. */
const card = () => page.locator("[data-pool]").first();
async function shown(field: string): Promise<string> {
  return (await card().locator(`[data-field="${field}"]`).textContent()) ?? "";
}
async function chartPoints(): Promise<number> {
  return Number((await card().locator("[data-chart]").getAttribute("data-points")) ?? "0");
}

describe("the dashboard", () => {
  it("signs in with a token kept in an HttpOnly SameSite=Strict cookie and lists the workspace's apps", async () => {
    await page.goto(url());
    await page.fill('input[name="token"]', "sq_wrong");
    await page.click('button[type="submit"]');
    await page.getByText("not valid").waitFor();

    await page.fill('input[name="token"]', token());
    await page.click('button[type="submit"]');
    await page.getByRole("link", { name: "dashboard-demo" }).waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === "squall_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    // Page scripts cannot read the token.
    expect(await page.evaluate(() => document.cookie)).not.toContain("squall_session");
  });

  it("charts a map live: containers rise and fall, the chart gains points, the failed call shows its error", async () => {
    await page.getByRole("link", { name: "dashboard-demo" }).click();
    await page.getByRole("heading", { name: /slowSquare/ }).waitFor();
    await eventually("the first refresh", async () => ((await shown("containers")) === "0" ? true : undefined));
    // Zoomed in, a short map is wide enough to see (and to photograph for the README).
    await page.getByRole("button", { name: "1 min", exact: true }).click();
    const pointsBefore = await chartPoints();

    const slowSquare = await client().functions.fromName<[number], number>("dashboard-demo", "slowSquare");
    const map = slowSquare
      .map(
        Array.from({ length: 24 }, (_, i) => i),
        { returnExceptions: true },
      )
      .toArray();
    const peak = await eventually("containers on the page", async () => {
      const n = Number(await shown("containers"));
      return n > 0 ? n : undefined;
    });
    expect(peak).toBeLessThanOrEqual(3);
    const results = await map;
    expect(results.filter((r) => r instanceof Error)).toHaveLength(1);

    await eventually("the chart to gain points", async () => ((await chartPoints()) > pointsBefore ? true : undefined));
    const failed = card().locator("tr.status-failure");
    await failed.first().waitFor();
    expect(await failed.first().locator("td.error").textContent()).toBe("UnluckyNumberError: 17 is unlucky");
    await eventually("one error in the last hour", async () => ((await shown("errors")) === "1" ? true : undefined));

    // scaledownWindowMs is 2 s: the idle containers go, and the page shows it.
    await eventually("containers to scale to zero", async () => ((await shown("containers")) === "0" ? true : undefined));
    await page.screenshot({ path: artifact("dashboard.png"), fullPage: true });
  });

  it("updates minContainers from the page; the pool follows and the setting shows as an override", async () => {
    const slowSquare = await client().functions.fromName("dashboard-demo", "slowSquare");
    await card().getByText("Change settings").click();
    const form = card().locator("[data-autoscaler-form]");
    await form.locator('input[name="minContainers"]').fill("5");
    await form.getByRole("button", { name: "Save" }).click();
    // The API's own validation, word for word.
    await form.getByText('"minContainers" (5) must not exceed "maxContainers" (3)').waitFor();

    await form.locator('input[name="minContainers"]').fill("2");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByText("Saved: minContainers.").waitFor();
    await eventually("two warm containers on the page", async () => ((await shown("containers")) === "2" ? true : undefined));
    expect(await card().locator('[data-source="minContainers"]').textContent()).toBe("override");
    const stats = await slowSquare.getCurrentStats();
    expect(stats.autoscaler.minContainers).toBe(2);
    expect(stats.autoscalerSources?.minContainers).toBe("override");
    expect(stats.containers.total).toBe(2);

    await form.locator('input[name="minContainers"]').fill("0");
    await form.getByRole("button", { name: "Save" }).click();
    await eventually("the warm containers to go", async () => ((await shown("containers")) === "0" ? true : undefined));
  });

  it('switches scaledownWindowMs to "auto" from the page and shows what the pool has learned, and why', async () => {
    const form = card().locator("[data-autoscaler-form]");
    const adaptive = card().locator("[data-adaptive]");
    expect(await adaptive.isHidden()).toBe(true);
    await form.locator('input[name="scaledownWindowMs"]').fill("sometimes");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByText('must be a whole number of milliseconds or "auto", got "sometimes"').waitFor();

    await form.locator('input[name="scaledownWindowMs"]').fill("auto");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByText("Saved: scaledownWindowMs.").waitFor();
    await adaptive.waitFor({ state: "visible" });
    expect(await adaptive.textContent()).toMatch(
      /^auto: fixed window 60\.0 s · no pre-warm\. Why: learning: \d+ of 6 idle intervals seen: fixed 60\.0 s window\.$/,
    );
    expect(await card().locator('[data-field="setting-scaledownWindowMs"]').textContent()).toBe("auto");

    await form.locator('input[name="scaledownWindowMs"]').fill("2000");
    await form.getByRole("button", { name: "Save" }).click();
    await adaptive.waitFor({ state: "hidden" });
  });

  it("is readable on a phone: nothing wider than the screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await card().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifact("dashboard-phone.png"), fullPage: true });
  });
});
