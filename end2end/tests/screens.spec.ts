import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'fs';
import * as path from 'path';
import { failOnBrowserErrors, signIn } from './support';

// Every page at a desktop size (1280×800) and on a phone (390×844), signed in as the
// administrator after the foundation and launch stories: no page is wider than the screen, every
// button is on screen (none hidden in a sideways-scrolling table), and a screenshot of each is
// saved for a reviewer under end2end/screenshots/<size>/, with the pages' heights in heights.json.
// Each page is also scanned with axe-core (WCAG 2.1 A and AA rules): no serious or critical
// violation on either size; every finding's count is written to axe.json beside the screenshots.

const admin = 'admin@example.org';
const sizes = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
const shots = path.join(__dirname, '..', 'screenshots');

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

/** The pages to look at: the user's own and the instance's, and each tab of one workspace. */
async function pages(page: Page): Promise<[string, string][]> {
  await page.goto('/');
  const link = page.getByTestId('workspace-link').filter({ hasText: 'RNA-seq production' });
  const workspace = (await link.getAttribute('href'))!.replace(/\/secrets$/, '');
  const list: [string, string][] = [
    ['home', '/'],
    ['your-secrets', '/user/secrets'],
    ['tokens', '/user/tokens'],
    ['cluster-credentials', '/user/cluster-credentials'],
    ['identities', '/identities'],
    ['account', '/account'],
    ['admin-users', '/admin/users'],
    ['admin-audit', '/admin/audit'],
  ];
  for (const tab of ['secrets', 'members', 'compute', 'runs', 'launch', 'audit', 'settings']) {
    list.push([`workspace-${tab}`, `${workspace}/${tab}`]);
  }
  return list;
}

for (const size of sizes) {
  test(`every page fits a ${size.name} screen (${size.width}×${size.height})`, async ({ page }) => {
    // Fifteen pages, each loaded, measured, photographed and scanned by axe-core: 30 to 60 s
    // alone on 2 cores, and over the suite's 60 s per test with a build beside it (2026-12-02).
    test.setTimeout(240_000);
    await page.setViewportSize({ width: size.width, height: size.height });
    await signIn(page, admin);
    const dir = path.join(shots, size.name);
    fs.mkdirSync(dir, { recursive: true });
    const heights: Record<string, number> = {};
    const findings: Record<string, { id: string; impact: string; nodes: number }[]> = {};
    for (const [name, where] of await pages(page)) {
      await page.goto(where);
      await page.locator('body[data-hydrated="true"]').waitFor();
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, `${name} (${where}) is wider than the screen`).toBeLessThanOrEqual(size.width);
      // Every visible button ends on screen: none is reachable only by scrolling a table sideways.
      const offScreen = await page.evaluate((screen) => {
        return Array.from(document.querySelectorAll('button'))
          .filter((b) => b.offsetParent !== null && b.getBoundingClientRect().right > screen + 1)
          .map((b) => b.textContent?.trim() ?? '');
      }, size.width);
      expect(offScreen, `${name}: buttons off screen`).toEqual([]);
      heights[name] = await page.evaluate(() => document.documentElement.scrollHeight);
      const scan = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      findings[name] = scan.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', nodes: v.nodes.length }));
      const grave = scan.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      expect.soft(grave, `${name}: serious or critical accessibility violations`).toEqual([]);
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    }
    fs.writeFileSync(path.join(dir, 'heights.json'), JSON.stringify(heights, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, 'axe.json'), JSON.stringify(findings, null, 2) + '\n');
  });
}
